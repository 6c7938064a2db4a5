import { Injectable } from '@nestjs/common';
import { SqlDialect } from '../persistence/sql-dialect.js';
import type { OutboxRecord } from './outbox-record.js';

interface OutboxRow {
  event_id: string;
  provider: string;
  event_type: string;
  routing_key: string;
  payload: string;
  created_at: string | Date;
}

const toRecord = (row: OutboxRow): OutboxRecord => ({
  eventId: row.event_id,
  provider: row.provider,
  eventType: row.event_type,
  routingKey: row.routing_key,
  payload: row.payload,
  createdAt: new Date(row.created_at),
});

/** The relay's view of the outbox: claim unpublished rows under a lease, then settle them. */
@Injectable()
export class OutboxRepository {
  constructor(private readonly sql: SqlDialect) {}

  /**
   * Leases up to `limit` unpublished rows whose lease is free or expired, oldest first. On
   * PostgreSQL `FOR UPDATE SKIP LOCKED` keeps concurrent replicas from claiming the same rows.
   */
  async claim(owner: string, leaseMs: number, limit: number): Promise<OutboxRecord[]> {
    const now = new Date();
    const until = new Date(now.getTime() + leaseMs);
    const lock = this.sql.isPostgres ? 'FOR UPDATE SKIP LOCKED' : '';
    const rows = await this.sql.query<OutboxRow>(
      `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
       WHERE event_id IN (
         SELECT event_id FROM outbox
         WHERE published_at IS NULL AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY created_at LIMIT ? ${lock})
       RETURNING event_id, provider, event_type, routing_key, payload, created_at`,
      [owner, until.toISOString(), now.toISOString(), limit],
    );
    return rows.map(toRecord).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async markPublished(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    if (this.sql.isPostgres) {
      // One text for any number of ids: prepared once per connection, instead of a text per
      // batch size that PostgreSQL parses and plans on every mark (issue 28).
      await this.sql.queryPrepared(
        `UPDATE outbox SET published_at = ?, lease_owner = NULL, lease_until = NULL
         WHERE event_id = ANY(?::varchar[])`,
        [new Date().toISOString(), eventIds],
      );
      return;
    }
    await this.sql.query(
      `UPDATE outbox SET published_at = ?, lease_owner = NULL, lease_until = NULL
       WHERE event_id IN (${eventIds.map(() => '?').join(', ')})`,
      [new Date().toISOString(), ...eventIds],
    );
  }

  /** Gives rows back to the sweep after a failed publish, keeping the reason. */
  async release(eventIds: string[], error: string): Promise<void> {
    if (eventIds.length === 0) return;
    await this.sql.query(
      `UPDATE outbox SET lease_owner = NULL, lease_until = NULL, last_error = ?
       WHERE event_id IN (${eventIds.map(() => '?').join(', ')}) AND published_at IS NULL`,
      [error.slice(0, 1000), ...eventIds],
    );
  }

  /** Unpublished rows and the age of the oldest, for health and metrics. */
  async backlog(): Promise<{ count: number; oldestCreatedAt: Date | null }> {
    const [row] = await this.sql.query<{ count: string | number; oldest: string | Date | null }>(
      `SELECT COUNT(*) AS count, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL`,
    );
    return {
      count: Number(row?.count ?? 0),
      oldestCreatedAt: row?.oldest ? new Date(row.oldest) : null,
    };
  }
}
