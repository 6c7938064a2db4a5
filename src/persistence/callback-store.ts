import { Injectable } from '@nestjs/common';
import { SqlDialect } from './sql-dialect.js';

export interface AcceptedCallbackRecord {
  id: string;
  provider: string;
  account: string;
  transactionKey: string;
  status: string;
  /** The merchant's order reference, kept searchable (admin API). */
  merchantReference?: string | null;
  eventId: string;
  sourceIp: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  verification: string;
  receivedAt: Date;
}

export interface OutboxRecord {
  eventId: string;
  provider: string;
  eventType: string;
  routingKey: string;
  payload: string;
  createdAt: Date;
}

export interface StoreOutcome {
  /** False when an earlier copy (same provider, account, transaction, status) is already stored. */
  stored: boolean;
}

/** Text when the body is UTF-8 without NUL bytes (PostgreSQL text cannot hold NUL), else base64. */
export function encodeRawBody(body: Buffer): { text: string; encoding: 'utf8' | 'base64' } {
  const text = body.toString('utf8');
  if (!text.includes('\u0000') && Buffer.from(text, 'utf8').equals(body))
    return { text, encoding: 'utf8' };
  return { text: body.toString('base64'), encoding: 'base64' };
}

/** Longest merchant reference kept in the searchable column (the event keeps the whole value). */
export const REFERENCE_SEARCH_LENGTH = 191;

/**
 * The merchant reference as stored in `callbacks.merchant_reference` and as searched for: without
 * NUL (PostgreSQL text cannot hold it) and cut to fit an index entry, so no reference a provider
 * sends can make the insert — and with it the callback — fail.
 */
export function searchableReference(reference: string | null | undefined): string | null {
  if (reference === null || reference === undefined) return null;
  return reference.replaceAll('\u0000', '').slice(0, REFERENCE_SEARCH_LENGTH);
}

const OUTBOX_COLUMNS = `(event_id, callback_id, provider, event_type, routing_key, payload, created_at, lease_owner, lease_until)`;

const CALLBACK_COLUMNS = `id, provider, account, transaction_key, status, event_id, outcome, source_ip,
    method, path, headers, raw_body, raw_body_encoding, verification, received_at, merchant_reference`;
/** Parameters per callback row (the columns above). */
const CALLBACK_PARAMS = 16;
/** Parameters per outbox row. */
const OUTBOX_PARAMS = 9;

/** Most rows one PostgreSQL statement takes (25 parameters each, far under the 65,535 limit). */
const MAX_BATCH = 100;

interface PendingStore {
  callbackParams: unknown[];
  outboxParams: unknown[];
  callbackId: string;
  resolve: (outcome: StoreOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Stores an accepted callback and its outbox row atomically, or nothing when it is a duplicate.
 * The unique index on (provider, account, transaction_key, status) decides, so copies racing on
 * separate connections still produce exactly one row.
 *
 * On PostgreSQL, callbacks that reach the store in the same event-loop turn are written by one
 * statement (one transaction, one round trip): under load that divides the database work per
 * callback several times. Each row still gets its own verdict (`ON CONFLICT DO NOTHING` per row,
 * `RETURNING` says which were new), and a failed batch is retried row by row so one bad row
 * cannot fail its neighbours.
 */
@Injectable()
export class CallbackStore {
  private pending: PendingStore[] = [];
  private flushScheduled = false;

  constructor(private readonly sql: SqlDialect) {}

  async storeAccepted(
    callback: AcceptedCallbackRecord,
    event: OutboxRecord,
    lease: { owner: string; until: Date } | null,
  ): Promise<StoreOutcome> {
    const body = encodeRawBody(callback.rawBody);
    const callbackParams = [
      callback.id,
      callback.provider,
      callback.account,
      callback.transactionKey,
      callback.status,
      callback.eventId,
      'accepted',
      callback.sourceIp,
      callback.method,
      callback.path,
      JSON.stringify(callback.headers),
      body.text,
      body.encoding,
      callback.verification,
      callback.receivedAt.toISOString(),
      searchableReference(callback.merchantReference),
    ];
    const outboxParams = [
      event.eventId,
      callback.id,
      event.provider,
      event.eventType,
      event.routingKey,
      event.payload,
      event.createdAt.toISOString(),
      lease?.owner ?? null,
      lease?.until.toISOString() ?? null,
    ];

    if (this.sql.isPostgres) {
      return new Promise((resolve, reject) => {
        this.pending.push({
          callbackParams,
          outboxParams,
          callbackId: callback.id,
          resolve,
          reject,
        });
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(() => this.flush());
        }
      });
    }

    return this.sql.sqliteTransaction((run) => {
      const inserted = run(
        `INSERT INTO callbacks (${CALLBACK_COLUMNS}) VALUES (${placeholders(CALLBACK_PARAMS)})
         ON CONFLICT (provider, account, transaction_key, status) DO NOTHING RETURNING id`,
        callbackParams,
      );
      if (inserted.length === 0) return { stored: false };
      run(
        `INSERT INTO outbox ${OUTBOX_COLUMNS} VALUES (${placeholders(OUTBOX_PARAMS)})`,
        outboxParams,
      );
      return { stored: true };
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.pending.length > 0) void this.write(this.pending.splice(0, MAX_BATCH));
  }

  private async write(batch: PendingStore[]): Promise<void> {
    try {
      const stored = await this.insertBatch(batch);
      for (const item of batch) item.resolve({ stored: stored.has(item.callbackId) });
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      await Promise.all(batch.map((item) => this.write([item])));
    }
  }

  /** One statement: the callbacks, then an outbox row for each callback that was new. */
  private async insertBatch(batch: PendingStore[]): Promise<Set<string>> {
    const callbackRows = batch.map(() => `(${placeholders(CALLBACK_PARAMS)})`).join(', ');
    const outboxRows = batch.map(() => `(${placeholders(OUTBOX_PARAMS)})`).join(', ');
    const rows = await this.sql.query<{ callback_id: string }>(
      `WITH input (${CALLBACK_COLUMNS}) AS (VALUES ${callbackRows}),
       events (event_id, callback_id, provider, event_type, routing_key, payload, created_at, lease_owner, lease_until)
         AS (VALUES ${outboxRows}),
       inserted AS (
         INSERT INTO callbacks (${CALLBACK_COLUMNS})
         SELECT id, provider, account, transaction_key, status, event_id, outcome, source_ip, method, path,
                headers, raw_body, raw_body_encoding, verification, received_at::timestamptz,
                merchant_reference
         FROM input
         ON CONFLICT (provider, account, transaction_key, status) DO NOTHING
         RETURNING id)
       INSERT INTO outbox ${OUTBOX_COLUMNS}
       SELECT e.event_id, e.callback_id, e.provider, e.event_type, e.routing_key, e.payload,
              e.created_at::timestamptz, e.lease_owner, e.lease_until::timestamptz
       FROM events e JOIN inserted ON inserted.id = e.callback_id
       RETURNING callback_id`,
      batch
        .flatMap((item) => [...item.callbackParams])
        .concat(batch.flatMap((item) => item.outboxParams)),
    );
    return new Set(rows.map((row) => row.callback_id));
  }
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}
