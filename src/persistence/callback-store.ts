import { Injectable } from '@nestjs/common';
import { SqlDialect } from './sql-dialect.js';

export interface AcceptedCallbackRecord {
  id: string;
  provider: string;
  account: string;
  transactionKey: string;
  status: string;
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
  if (!text.includes('\u0000') && Buffer.from(text, 'utf8').equals(body)) return { text, encoding: 'utf8' };
  return { text: body.toString('base64'), encoding: 'base64' };
}

const INSERT_CALLBACK = `
  INSERT INTO callbacks (id, provider, account, transaction_key, status, event_id, outcome, source_ip,
    method, path, headers, raw_body, raw_body_encoding, verification, received_at)
  VALUES (?, ?, ?, ?, ?, ?, 'accepted', ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (provider, account, transaction_key, status) DO NOTHING`;

const OUTBOX_COLUMNS = `(event_id, callback_id, provider, event_type, routing_key, payload, created_at, lease_owner, lease_until)`;

/**
 * Stores an accepted callback and its outbox row atomically, or nothing when it is a duplicate.
 * The unique index on (provider, account, transaction_key, status) decides, so copies racing on
 * separate connections still produce exactly one row.
 */
@Injectable()
export class CallbackStore {
  constructor(private readonly sql: SqlDialect) {}

  async storeAccepted(
    callback: AcceptedCallbackRecord,
    event: OutboxRecord,
    lease: { owner: string; until: Date } | null,
  ): Promise<StoreOutcome> {
    const body = encodeRawBody(callback.rawBody);
    const callbackParams = [
      callback.id, callback.provider, callback.account, callback.transactionKey, callback.status,
      callback.eventId, callback.sourceIp, callback.method, callback.path, JSON.stringify(callback.headers),
      body.text, body.encoding, callback.verification, callback.receivedAt.toISOString(),
    ];
    const outboxParams = [
      event.eventId, event.provider, event.eventType, event.routingKey, event.payload,
      event.createdAt.toISOString(), lease?.owner ?? null, lease?.until.toISOString() ?? null,
    ];

    if (this.sql.isPostgres) {
      // One statement is one transaction: the outbox row exists only if the callback row was inserted.
      const rows = await this.sql.query(
        `WITH inserted AS (${INSERT_CALLBACK} RETURNING id)
         INSERT INTO outbox ${OUTBOX_COLUMNS}
         SELECT ?, inserted.id, ?, ?, ?, ?, ?, ?, ? FROM inserted
         RETURNING event_id`,
        [...callbackParams, ...outboxParams],
      );
      return { stored: rows.length === 1 };
    }

    return this.sql.sqliteTransaction((run) => {
      const inserted = run(`${INSERT_CALLBACK} RETURNING id`, callbackParams);
      if (inserted.length === 0) return { stored: false };
      run(
        `INSERT INTO outbox ${OUTBOX_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [event.eventId, callback.id, ...outboxParams.slice(1)],
      );
      return { stored: true };
    });
  }
}
