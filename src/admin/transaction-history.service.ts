import { Injectable, NotFoundException } from '@nestjs/common';
import { SqlDialect } from '../persistence/sql-dialect.js';
import type { TransactionStateRow } from '../transactions/transaction-states.js';
import type {
  TransactionActionView,
  TransactionDetail,
  TransactionVerificationView,
} from './admin.dto.js';
import {
  type AuditRow,
  auditView,
  type CallbackRow,
  claimOf,
  iso,
  isoOrNull,
  type OutboxRow,
  parsePayload,
  type Timestamp,
} from './admin-rows.js';

interface VerificationRow {
  callback_id: string;
  state: string;
  event: string;
  attempts: number | string;
  next_at: Timestamp | null;
  last_error: string | null;
  detail: string | null;
  created_at: Timestamp;
  settled_at: Timestamp | null;
}

/** One transaction as operators read it: its state, callbacks, events, verifications and actions. */
@Injectable()
export class TransactionHistoryService {
  constructor(private readonly sql: SqlDialect) {}

  /** The state of one transaction and every callback stored for it, in arrival order. */
  async transaction(
    provider: string,
    account: string,
    transactionKey: string,
  ): Promise<TransactionDetail> {
    const [state] = await this.sql.query<TransactionStateRow>(
      `SELECT status, previous_status, version, created_at, updated_at FROM transactions
       WHERE provider = ? AND account = ? AND transaction_key = ?`,
      [provider, account, transactionKey],
    );
    const callbacks = await this.sql.query<
      Pick<
        CallbackRow,
        'id' | 'outcome' | 'status' | 'received_at' | 'event_id' | 'method' | 'verification'
      >
    >(
      `SELECT id, outcome, status, received_at, event_id, method, verification FROM callbacks
       WHERE provider = ? AND account = ? AND transaction_key = ?
       ORDER BY received_at, id`,
      [provider, account, transactionKey],
    );
    if (!state && callbacks.length === 0) {
      throw new NotFoundException(
        `No transaction ${transactionKey} of ${provider} account ${account}`,
      );
    }
    const events = callbacks.length
      ? await this.sql.query<OutboxRow>(
          `SELECT event_id, callback_id, event_type, routing_key, payload, created_at, published_at, attempts,
                  last_error, lease_until
           FROM outbox WHERE callback_id IN (${callbacks.map(() => '?').join(', ')})
           ORDER BY created_at, event_id`,
          callbacks.map((c) => c.id),
        )
      : [];
    const verifications = await this.sql.query<VerificationRow>(
      `SELECT callback_id, state, event, attempts, next_at, last_error, detail, created_at, settled_at
       FROM verifications WHERE provider = ? AND account = ? AND transaction_key = ?
       ORDER BY created_at, callback_id`,
      [provider, account, transactionKey],
    );
    const actions = await this.operatorActions([
      `${provider}/${account}/${transactionKey}`,
      ...callbacks.map((c) => c.id),
      ...events.map((e) => e.event_id),
    ]);
    const views = callbacks.map((c) => ({
      id: c.id,
      kind: c.method === 'INQUIRY' ? ('inquiry' as const) : ('callback' as const),
      verification: c.verification,
      outcome: c.outcome,
      status: c.status,
      receivedAt: iso(c.received_at),
      eventId: c.event_id,
      events: events
        .filter((e) => e.callback_id === c.id)
        .map((e) => {
          const data = (parsePayload(e.payload).data ?? {}) as Record<string, unknown>;
          return {
            eventId: e.event_id,
            routingKey: e.routing_key,
            transactionVersion:
              typeof data.transactionVersion === 'number' ? data.transactionVersion : null,
            previousStatus: typeof data.previousStatus === 'string' ? data.previousStatus : null,
            createdAt: iso(e.created_at),
            publishedAt: isoOrNull(e.published_at),
          };
        }),
    }));
    return {
      provider,
      account,
      transactionKey,
      status: state?.status ?? null,
      previousStatus: state?.previous_status ?? null,
      version: state ? Number(state.version) : 0,
      createdAt: state ? iso(state.created_at) : null,
      updatedAt: state ? iso(state.updated_at) : null,
      callbacks: views,
      inquiries: views.filter((c) => c.kind === 'inquiry'),
      verifications: verifications.map(verificationView),
      operatorActions: actions,
    };
  }

  /** Actions (not reads) of operators on any of the targets, oldest first. */
  private async operatorActions(targets: string[]): Promise<TransactionActionView[]> {
    const rows: AuditRow[] = [];
    // Bounded IN lists: a transaction with many callbacks is asked about in slices.
    for (let i = 0; i < targets.length; i += 200) {
      const slice = targets.slice(i, i + 200);
      rows.push(
        ...(await this.sql.query<AuditRow>(
          `SELECT at, action, target, details FROM admin_audit
           WHERE target IN (${slice.map(() => '?').join(', ')}) ORDER BY at`,
          slice,
        )),
      );
    }
    return rows
      .map(auditView)
      .filter((row): row is TransactionActionView & { method: string } => row.method !== 'GET')
      .map(({ method: _method, ...row }) => row)
      .sort((a, b) => a.at.localeCompare(b.at));
  }
}

function verificationView(row: VerificationRow): TransactionVerificationView {
  return {
    callbackId: row.callback_id,
    state: row.state,
    claim: claimOf(row.event),
    attempts: Number(row.attempts),
    nextAt: isoOrNull(row.next_at),
    lastError: row.last_error,
    detail: row.detail,
    createdAt: iso(row.created_at),
    settledAt: isoOrNull(row.settled_at),
  };
}
