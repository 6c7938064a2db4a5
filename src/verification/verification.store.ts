import { Injectable } from '@nestjs/common';
import { uuidV7 } from '../common/uuid-v7.js';
import type { EventStatus, NormalizedTransaction } from '../events/normalized-transaction.js';
import {
  buildTransactionEvent,
  type EventVerification,
  type TransactionEvent,
} from '../events/transaction-event.js';
import {
  type AcceptedCallbackRecord,
  encodeRawBody,
  identityParams,
  type OutboxRecord,
  requestParams,
  searchableReference,
} from '../persistence/callback-store.js';
import { SqlDialect, type SqlPlan, type SqlPlanContext, step } from '../persistence/sql-dialect.js';
import { TurnBatch } from '../persistence/turn-batch.js';
import { applyObservation, type TransitionResult } from '../transactions/transaction-states.js';
import type { ProviderReport, StatusQuery } from './status-api.js';
import type { ClaimedTransaction } from './verdict.js';

/** Where a callback's verification stands. */
export type VerificationState =
  'verifying' | 'confirmed' | 'contradicted' | 'conflicted' | 'published_unverified';

/** A claimed verification: the callback's event as built at ingest, and what to ask. */
export interface VerificationWork {
  callbackId: string;
  provider: string;
  account: string;
  transactionKey: string;
  transitionKey: string;
  event: TransactionEvent;
  attempts: number;
  createdAt: Date;
}

interface VerificationRow {
  callback_id: string;
  provider: string;
  account: string;
  transaction_key: string;
  event: string;
  attempts: number | string;
  created_at: string | Date;
}

/** What the verifications table stores per callback: the event (without transition) and its key. */
interface StoredWork {
  event: TransactionEvent;
  transitionKey: string;
}

const CALLBACK_COLUMNS = `id, provider, account, transaction_key, status, transition_key, event_id, outcome,
  source_ip, method, path, headers, raw_body, raw_body_encoding, verification, received_at, merchant_reference`;
/** The de-duplication key's unique index: the event id is derived from the key (eventIdFor). */
const DEDUP = `(event_id)`;

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

function toWork(row: VerificationRow): VerificationWork {
  const stored = JSON.parse(row.event) as StoredWork;
  return {
    callbackId: row.callback_id,
    provider: row.provider,
    account: row.account,
    transactionKey: row.transaction_key,
    transitionKey: stored.transitionKey,
    event: stored.event,
    attempts: Number(row.attempts),
    createdAt: new Date(row.created_at),
  };
}

/** The normalized transaction an event was built from (its `data`, with the domain of its type). */
export function transactionOfEvent(event: TransactionEvent): NormalizedTransaction {
  const data = event.body.data;
  return {
    domain: event.type.split('.')[0] as NormalizedTransaction['domain'],
    status: data.status,
    providerStatus: data.providerStatus,
    providerTransactionId: data.providerTransactionId,
    merchantReference: data.merchantReference,
    amount: data.amount,
    currency: data.currency,
    fee: data.fee,
    paymentMethod: data.paymentMethod,
    channel: data.channel,
    product: data.product,
    occurredAt: new Date(data.occurredAt),
    raw: data.raw,
  };
}

/** What the gateway asks the provider about, from the event. */
export function queryOfEvent(event: TransactionEvent): StatusQuery {
  const data = event.body.data;
  return {
    account: data.account,
    providerTransactionId: data.providerTransactionId,
    merchantReference: data.merchantReference,
    amount: data.amount,
    currency: data.currency,
    paymentMethod: data.paymentMethod,
    channel: data.channel,
    raw: data.raw,
  };
}

export function claimOfEvent(event: TransactionEvent): ClaimedTransaction {
  const data = event.body.data;
  return {
    status: data.status,
    providerTransactionId: data.providerTransactionId,
    merchantReference: data.merchantReference,
    amount: data.amount,
    currency: data.currency,
  };
}

export function withVerification(
  event: TransactionEvent,
  verification: EventVerification,
): TransactionEvent {
  return { ...event, body: { ...event.body, data: { ...event.body.data, verification } } };
}

/** A stored record of what the provider's API answered (method INQUIRY), applied as a state. */
export interface InquiryRecord {
  provider: string;
  account: string;
  transactionKey: string;
  /** The transaction as the gateway knows it; status and providerStatus are the provider's. */
  transaction: NormalizedTransaction;
  report: ProviderReport;
  method: 'inquiry' | 'reconciliation';
  at: Date;
}

/**
 * Stores the provider's answer as a callback record (method `INQUIRY`, raw = the answer) and
 * applies its status to the transaction state, writing the event when it is a transition. A
 * record of the same status already stored (a callback said so before) is not stored twice.
 */
export function* recordInquiry(
  context: SqlPlanContext,
  record: InquiryRecord,
  lease: { owner: string; until: Date } | null,
): SqlPlan<TransitionResult> {
  const id = uuidV7();
  const verification: EventVerification = { method: record.method, at: record.at.toISOString() };
  const event = buildTransactionEvent({
    provider: record.provider,
    account: record.account,
    callbackId: id,
    receivedAt: record.at,
    transaction: record.transaction,
    verification,
  });
  const raw = encodeRawBody(Buffer.from(JSON.stringify(record.report.raw)));
  const inserted = yield step(
    `INSERT INTO callbacks (${CALLBACK_COLUMNS}) VALUES (${placeholders(17)})
     ON CONFLICT ${DEDUP} DO NOTHING RETURNING id`,
    [
      id,
      record.provider,
      record.account,
      record.transactionKey,
      record.transaction.status,
      '',
      event.id,
      'accepted',
      'status-api',
      'INQUIRY',
      `${record.method}:${record.provider}`,
      '{}',
      raw.text,
      raw.encoding,
      `${record.method === 'inquiry' ? 'status inquiry' : 'reconciliation'}: ${record.provider} reports ${record.report.providerStatus}`,
      record.at.toISOString(),
      searchableReference(record.transaction.merchantReference),
    ],
  );
  const callbackId = inserted.length > 0 ? id : null;
  const result = yield* applyObservation(context, {
    provider: record.provider,
    account: record.account,
    transactionKey: record.transactionKey,
    status: record.transaction.status,
    refundedTotal: null,
    observedAt: record.at,
    callbackId,
    event,
    lease,
  });
  if (callbackId && result.verdict !== 'transition') {
    yield step(`UPDATE callbacks SET outcome = ? WHERE id = ?`, [result.verdict, callbackId]);
  }
  return result;
}

/** Settlement transactions in flight per instance (each holds one pooled connection). */
const SETTLE_CONCURRENCY = 2;

/** Most callbacks one PostgreSQL statement stores (19 parameters each). */
const MAX_BATCH = 100;

interface PendingVerifying {
  callback: AcceptedCallbackRecord;
  event: TransactionEvent;
  lease: { owner: string; until: Date };
  resolve: (outcome: 'verifying' | 'duplicate') => void;
  reject: (error: unknown) => void;
}

/** Verification rows: stored with the callback, claimed under a lease, settled once. */
@Injectable()
export class VerificationStore {
  private readonly pending = new TurnBatch<PendingVerifying>((queue) => {
    for (let i = 0; i < queue.length; i += MAX_BATCH)
      void this.writeBatch(queue.slice(i, i + MAX_BATCH));
  });
  private settling = 0;
  private readonly settleWaiters: Array<() => void> = [];

  constructor(private readonly sql: SqlDialect) {}

  /**
   * The callback (outcome `verifying`) and its verification row, in one transaction; nothing
   * when an earlier copy is stored (`duplicate`). The state does not move until it is verified.
   *
   * On PostgreSQL, callbacks that reach the store in the same event-loop turn are written by one
   * statement (as CallbackStore does for callbacks published on their signature): the ack path
   * costs the database one round trip per batch, not two statements and a transaction per
   * callback. A failed batch is retried callback by callback, so one bad row fails only itself.
   */
  async storeVerifying(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
    lease: { owner: string; until: Date },
  ): Promise<'verifying' | 'duplicate'> {
    if (!this.sql.isPostgres) return this.storeVerifyingOne(callback, event, lease);
    return new Promise((resolve, reject) => {
      this.pending.add({ callback, event, lease, resolve, reject });
    });
  }

  private async writeBatch(batch: PendingVerifying[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const stored = await this.insertBatch(batch);
        for (const item of batch)
          item.resolve(stored.has(item.callback.id) ? 'verifying' : 'duplicate');
        return;
      } catch {
        // One by one below: each callback gets its own verdict (or its own error).
      }
    }
    await Promise.all(
      batch.map((item) =>
        this.storeVerifyingOne(item.callback, item.event, item.lease).then(
          item.resolve,
          item.reject,
        ),
      ),
    );
  }

  /**
   * One statement: the callbacks not yet stored (the event id's unique index drops copies, also
   * two in the same batch) and, for exactly those, their verification rows. Returns the ids stored.
   */
  private async insertBatch(batch: PendingVerifying[]): Promise<Set<string>> {
    const width = 19;
    const rows = batch.map(() => `(${placeholders(width)})`).join(', ');
    const params = batch.flatMap(({ callback, event, lease }) => [
      ...identityParams(callback),
      ...requestParams(callback),
      searchableReference(callback.merchantReference),
      JSON.stringify({ event, transitionKey: callback.transitionKey } satisfies StoredWork),
      lease.owner,
      lease.until.toISOString(),
    ]);
    const result = await this.sql.queryPrepared<{ id: string }>(
      `WITH input (id, provider, account, transaction_key, status, transition_key, event_id, source_ip, method,
                   path, headers, raw_body, raw_body_encoding, verification, received_at, merchant_reference,
                   event, lease_owner, lease_until)
         AS (VALUES ${rows}),
       stored AS (
         INSERT INTO callbacks (${CALLBACK_COLUMNS})
         SELECT id, provider, account, transaction_key, status, transition_key, event_id, 'verifying', source_ip,
                method, path, headers, raw_body, raw_body_encoding, verification, received_at::timestamptz,
                merchant_reference
         FROM input
         ON CONFLICT ${DEDUP} DO NOTHING
         RETURNING id),
       waiting AS (
         INSERT INTO verifications (callback_id, provider, account, transaction_key, event, state, attempts,
                                    next_at, lease_owner, lease_until, created_at)
         SELECT i.id, i.provider, i.account, i.transaction_key, i.event, 'verifying', 0, i.received_at::timestamptz,
                i.lease_owner, i.lease_until::timestamptz, i.received_at::timestamptz
         FROM input i JOIN stored s ON s.id = i.id
         RETURNING callback_id)
       SELECT callback_id AS id FROM waiting`,
      params,
    );
    return new Set(result.map((row) => row.id));
  }

  /** storeVerifying as its own transaction (SQLite, and the one-by-one retry of a batch). */
  private storeVerifyingOne(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
    lease: { owner: string; until: Date },
  ): Promise<'verifying' | 'duplicate'> {
    const stored: StoredWork = { event, transitionKey: callback.transitionKey };
    return this.sql.transact(function* () {
      const inserted = yield step(
        `INSERT INTO callbacks (${CALLBACK_COLUMNS}) VALUES (${placeholders(17)})
         ON CONFLICT ${DEDUP} DO NOTHING RETURNING id`,
        [
          ...identityParams(callback),
          'verifying',
          ...requestParams(callback),
          searchableReference(callback.merchantReference),
        ],
      );
      if (inserted.length === 0) return 'duplicate' as const;
      yield step(
        `INSERT INTO verifications (callback_id, provider, account, transaction_key, event, state, attempts,
                                    next_at, lease_owner, lease_until, created_at)
         VALUES (?, ?, ?, ?, ?, 'verifying', 0, ?, ?, ?, ?)`,
        [
          callback.id,
          callback.provider,
          callback.account,
          callback.transactionKey,
          JSON.stringify(stored),
          callback.receivedAt.toISOString(),
          lease.owner,
          lease.until.toISOString(),
          callback.receivedAt.toISOString(),
        ],
      );
      return 'verifying' as const;
    });
  }

  /**
   * Leases up to `limit` waiting rows that are due and free (or whose lease expired), oldest
   * first; `FOR UPDATE SKIP LOCKED` keeps replicas from claiming the same rows on PostgreSQL.
   */
  async claim(owner: string, leaseMs: number, limit: number): Promise<VerificationWork[]> {
    const now = new Date();
    const lock = this.sql.isPostgres ? 'FOR UPDATE SKIP LOCKED' : '';
    const rows = await this.sql.query<VerificationRow>(
      `UPDATE verifications SET lease_owner = ?, lease_until = ?
       WHERE callback_id IN (
         SELECT callback_id FROM verifications
         WHERE state = 'verifying' AND next_at <= ? AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY next_at LIMIT ? ${lock})
       RETURNING callback_id, provider, account, transaction_key, event, attempts, created_at`,
      [
        owner,
        new Date(now.getTime() + leaseMs).toISOString(),
        now.toISOString(),
        now.toISOString(),
        limit,
      ],
    );
    return rows.map(toWork);
  }

  /** One waiting row, leased to `owner` whatever its schedule (admin "verify now"). */
  async claimOne(
    callbackId: string,
    owner: string,
    leaseMs: number,
  ): Promise<VerificationWork | null> {
    const now = new Date();
    const [row] = await this.sql.query<VerificationRow>(
      `UPDATE verifications SET lease_owner = ?, lease_until = ?, state = 'verifying', next_at = ?
       WHERE callback_id = ? AND state IN ('verifying', 'conflicted') AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)
       RETURNING callback_id, provider, account, transaction_key, event, attempts, created_at`,
      [
        owner,
        new Date(now.getTime() + leaseMs).toISOString(),
        now.toISOString(),
        callbackId,
        now.toISOString(),
        owner,
      ],
    );
    return row ? toWork(row) : null;
  }

  /** Gives a row back with its next attempt time after a failed inquiry. */
  async retryLater(
    work: VerificationWork,
    owner: string,
    nextAt: Date,
    error: string,
  ): Promise<void> {
    await this.sql.query(
      `UPDATE verifications SET attempts = attempts + 1, next_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
       WHERE callback_id = ? AND state = 'verifying' AND lease_owner = ?`,
      [nextAt.toISOString(), error.slice(0, 1000), work.callbackId, owner],
    );
  }

  /** Gives a row back untouched (breaker open, shutting down). */
  async release(work: VerificationWork, owner: string, nextAt: Date): Promise<void> {
    await this.sql.query(
      `UPDATE verifications SET next_at = ?, lease_owner = NULL, lease_until = NULL
       WHERE callback_id = ? AND state = 'verifying' AND lease_owner = ?`,
      [nextAt.toISOString(), work.callbackId, owner],
    );
  }

  /**
   * Settles a row held by `owner` and applies what it proved, in one transaction. Null when the
   * row is no longer this owner's (its lease expired and another replica took it).
   */
  async settle(
    work: VerificationWork,
    owner: string | null,
    settlement: {
      state: Exclude<VerificationState, 'verifying'>;
      detail: string;
      /** The callback's own event, published as it is (confirmed, published without verification). */
      publish?: TransactionEvent;
      /** The provider's answer, stored and applied as the transaction's state (contradicted). */
      record?: InquiryRecord;
      lease: { owner: string; until: Date } | null;
    },
  ): Promise<{ settled: boolean; outbox: OutboxRecord[] }> {
    // Settlements are off the ack path: at most SETTLE_CONCURRENCY hold a pooled connection at
    // once, so verification work never takes the connections incoming callbacks are stored with.
    while (this.settling >= SETTLE_CONCURRENCY)
      await new Promise<void>((resolve) => this.settleWaiters.push(resolve));
    this.settling += 1;
    try {
      return await this.settleNow(work, owner, settlement);
    } finally {
      this.settling -= 1;
      this.settleWaiters.shift()?.();
    }
  }

  private settleNow(
    work: VerificationWork,
    owner: string | null,
    settlement: Parameters<VerificationStore['settle']>[2],
  ): Promise<{ settled: boolean; outbox: OutboxRecord[] }> {
    const at = new Date().toISOString();
    return this.sql.transact(function* (context) {
      const owned = yield step(
        `UPDATE verifications SET state = ?, detail = ?, settled_at = ?, lease_owner = NULL, lease_until = NULL
         WHERE callback_id = ? AND state IN ('verifying', 'conflicted')
           ${owner === null ? '' : 'AND lease_owner = ?'}
         RETURNING callback_id`,
        [
          settlement.state,
          settlement.detail.slice(0, 2000),
          at,
          work.callbackId,
          ...(owner === null ? [] : [owner]),
        ],
      );
      if (owned.length === 0) return { settled: false, outbox: [] };
      const outbox: OutboxRecord[] = [];
      let outcome: string = settlement.state;
      if (settlement.publish) {
        const result = yield* applyObservation(context, {
          provider: work.provider,
          account: work.account,
          transactionKey: work.transactionKey,
          status: settlement.publish.body.data.status as EventStatus,
          refundedTotal: work.transitionKey || null,
          observedAt: new Date(at),
          callbackId: work.callbackId,
          event: settlement.publish,
          lease: settlement.lease,
        });
        if (result.outbox) outbox.push(result.outbox);
        outcome = result.verdict === 'transition' ? 'accepted' : result.verdict;
      }
      if (settlement.record) {
        const result = yield* recordInquiry(context, settlement.record, settlement.lease);
        if (result.outbox) outbox.push(result.outbox);
      }
      // A conflicted callback gives up its de-duplication slot: a forged copy that came first must
      // not make the genuine callback of that status a "duplicate" that is never verified.
      if (settlement.state === 'conflicted') {
        yield step(
          `UPDATE callbacks SET outcome = ?, transition_key = ?, event_id = NULL WHERE id = ?`,
          [outcome, `conflicted:${work.callbackId}`, work.callbackId],
        );
      } else {
        yield step(`UPDATE callbacks SET outcome = ? WHERE id = ?`, [outcome, work.callbackId]);
      }
      return { settled: true, outbox };
    });
  }

  /** Rows in `state`, oldest first (admin). */
  async list(state: VerificationState, limit: number): Promise<Array<Record<string, unknown>>> {
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT callback_id, provider, account, transaction_key, state, attempts, next_at, last_error, detail,
              created_at, settled_at
       FROM verifications WHERE state = ? ORDER BY created_at LIMIT ?`,
      [state, limit],
    );
    return rows;
  }

  async get(callbackId: string): Promise<(VerificationWork & { state: VerificationState }) | null> {
    const [row] = await this.sql.query<VerificationRow & { state: VerificationState }>(
      `SELECT callback_id, provider, account, transaction_key, event, attempts, created_at, state
       FROM verifications WHERE callback_id = ?`,
      [callbackId],
    );
    return row ? { ...toWork(row), state: row.state } : null;
  }

  /** Waiting rows and the creation time of the oldest (gateway_verification_oldest_seconds). */
  async backlog(): Promise<{ count: number; oldestCreatedAt: Date | null }> {
    const [row] = await this.sql.query<{ count: string | number; oldest: string | Date | null }>(
      `SELECT COUNT(*) AS count, MIN(created_at) AS oldest FROM verifications WHERE state = 'verifying'`,
    );
    return {
      count: Number(row?.count ?? 0),
      oldestCreatedAt: row?.oldest ? new Date(row.oldest) : null,
    };
  }
}
