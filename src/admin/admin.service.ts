import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { SqlDialect } from '../persistence/sql-dialect.js';
import { searchableReference } from '../transactions/callback-store.js';
import {
  isStorableTime,
  type CallbackDetail,
  type CallbackListItem,
  type CallbackPage,
  type CallbackSearchQuery,
  DEFAULT_PAGE_SIZE,
  type RepublishResult,
} from './admin.dto.js';
import {
  type CallbackRow,
  eventView,
  iso,
  isoOrNull,
  loadCallback,
  type OutboxRow,
  type Timestamp,
} from './admin-rows.js';

interface ListRow extends Pick<
  CallbackRow,
  | 'id'
  | 'provider'
  | 'account'
  | 'credential_key'
  | 'outcome'
  | 'status'
  | 'merchant_reference'
  | 'transaction_key'
  | 'received_at'
  | 'event_id'
> {
  published_at: Timestamp | null;
  events: number | string;
  unpublished: number | string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque keyset cursor: the (received_at, id) of the last row of the page. */
function encodeCursor(receivedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([receivedAt, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  try {
    const [receivedAt, id] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof receivedAt !== 'string' ||
      typeof id !== 'string' ||
      !isStorableTime(receivedAt) ||
      !UUID.test(id)
    ) {
      throw new Error('bad cursor');
    }
    return { receivedAt: new Date(receivedAt).toISOString(), id };
  } catch {
    throw new BadRequestException('cursor is not one this API returned');
  }
}

/** Outcomes of refused requests (rejected-attempts.ts), stored with only what arrived. */
const REJECTED_OUTCOMES = new Set<string>(['rejected_auth', 'rejected_address', 'invalid']);

/**
 * The admin search as one statement (`?` placeholders), newest first, one row more than the page
 * to tell whether there is a next one. Exported so the data benchmark explains exactly this SQL.
 */
export function callbackSearchStatement(query: CallbackSearchQuery): {
  sql: string;
  params: unknown[];
} {
  const where: string[] = [];
  const params: unknown[] = [];
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(`c.${column} = ?`);
    params.push(value);
  };
  equal('provider', query.provider);
  equal('account', query.account);
  equal('status', query.status);
  equal(
    'merchant_reference',
    query.reference === undefined ? undefined : (searchableReference(query.reference) ?? undefined),
  );
  equal('transaction_key', query.providerTransactionId);
  equal('outcome', query.outcome);
  if (query.from !== undefined) {
    where.push('c.received_at >= ?');
    params.push(new Date(query.from).toISOString());
  }
  if (query.to !== undefined) {
    where.push('c.received_at < ?');
    params.push(new Date(query.to).toISOString());
  }
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    where.push('(c.received_at < ? OR (c.received_at = ? AND c.id < ?))');
    params.push(after.receivedAt, after.receivedAt, after.id);
  }
  // Rejected attempts are stored without status or transaction (a reference only where it could
  // be read): asking for one of those together with a rejected outcome matches nothing.
  if (
    query.outcome !== undefined &&
    REJECTED_OUTCOMES.has(query.outcome) &&
    (query.status !== undefined || query.providerTransactionId !== undefined)
  ) {
    where.push('1 = 0');
  }
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  return {
    sql: `SELECT c.id, c.provider, c.account, c.credential_key, c.outcome, c.status, c.merchant_reference, c.transaction_key,
              c.received_at, c.event_id, o.published_at,
              (SELECT COUNT(*) FROM outbox x WHERE x.callback_id = c.id) AS events,
              (SELECT COUNT(*) FROM outbox x WHERE x.callback_id = c.id AND x.published_at IS NULL) AS unpublished
       FROM callbacks c LEFT JOIN outbox o ON o.event_id = c.event_id
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY c.received_at DESC, c.id DESC
       LIMIT ?`,
    params: [...params, limit + 1],
  };
}

/**
 * Stored callbacks for operators: search, one callback with its events, and republishing an event.
 * Renormalizing is RenormalizationService's, a transaction's history TransactionHistoryService's.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly sql: SqlDialect,
    private readonly relay: OutboxRelay,
  ) {}

  async search(query: CallbackSearchQuery): Promise<CallbackPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const { sql, params } = callbackSearchStatement(query);
    const rows = await this.sql.query<ListRow>(sql, params);
    const page = rows.slice(0, limit);
    const items: CallbackListItem[] = page.map((row) => ({
      id: row.id,
      provider: row.provider,
      account: row.account,
      credentialKey: row.credential_key,
      outcome: row.outcome,
      status: row.status,
      reference: row.merchant_reference,
      transactionKey: row.transaction_key,
      receivedAt: iso(row.received_at),
      eventId: row.event_id,
      publishedAt: isoOrNull(row.published_at),
      events: Number(row.events),
      published: Number(row.events) === 0 ? null : Number(row.unpublished) === 0,
    }));
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor(last.receivedAt, last.id) : null,
    };
  }

  async show(id: string): Promise<CallbackDetail> {
    const row = await loadCallback(this.sql, id);
    const events = await this.sql.query<OutboxRow>(
      `SELECT event_id, callback_id, event_type, routing_key, payload, created_at, published_at, attempts,
              last_error, lease_until
       FROM outbox WHERE callback_id = ? ORDER BY created_at, event_id`,
      [id],
    );
    return {
      id: row.id,
      provider: row.provider,
      account: row.account,
      credentialKey: row.credential_key,
      outcome: row.outcome,
      status: row.status,
      reference: row.merchant_reference,
      transactionKey: row.transaction_key,
      verification: row.verification,
      request: {
        method: row.method,
        path: row.path,
        headers: JSON.parse(row.headers) as Record<string, string>,
        bodyEncoding: row.raw_body_encoding,
        body: row.raw_body,
        sourceIp: row.source_ip,
        receivedAt: iso(row.received_at),
      },
      eventId: row.event_id,
      events: events.map(eventView),
    };
  }

  /**
   * Makes the relay publish the event again, with the same id: its row goes back to unpublished
   * and unleased, and a sweep is started.
   */
  async republish(eventId: string): Promise<RepublishResult> {
    const [row] = await this.sql.query<OutboxRow>(
      `UPDATE outbox SET published_at = NULL, lease_owner = NULL, lease_until = NULL
       WHERE event_id = ?
       RETURNING event_id, callback_id, event_type, routing_key, payload, created_at, published_at, attempts,
                 last_error, lease_until`,
      [eventId],
    );
    if (!row) throw new NotFoundException(`No event ${eventId}`);
    void this.relay.sweep();
    return {
      eventId: row.event_id,
      callbackId: row.callback_id,
      routingKey: row.routing_key,
      publishedAt: isoOrNull(row.published_at),
      attempts: Number(row.attempts),
    };
  }
}
