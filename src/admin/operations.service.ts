import { ConflictException, Injectable } from '@nestjs/common';
import { SqlDialect } from '../persistence/sql-dialect.js';
import { type AuditRow, auditView } from './admin-rows.js';
import { AdminService } from './admin.service.js';
import {
  type AuditPage,
  type AuditQuery,
  BULK_REPUBLISH_MAX,
  type BulkRepublishBody,
  type OutboxFilter,
  type OutboxPage,
  type OutboxQuery,
} from './operations.dto.js';

interface OutboxListRow {
  event_id: string;
  callback_id: string;
  routing_key: string;
  created_at: string | Date;
  published_at: string | Date | null;
  attempts: number | string;
  last_error: string | null;
}

const iso = (value: string | Date) => new Date(value).toISOString();

/** The outbox and the audit trail as operators read them; bulk republish after a plan. */
@Injectable()
export class OperationsService {
  constructor(
    private readonly sql: SqlDialect,
    private readonly admin: AdminService,
  ) {}

  private where(filter: OutboxFilter, now: number): { sql: string; params: unknown[] } {
    const where = [
      filter.published === 'true' ? 'published_at IS NOT NULL' : 'published_at IS NULL',
    ];
    const params: unknown[] = [];
    if (filter.routingKey !== undefined) {
      where.push('routing_key = ?');
      params.push(filter.routingKey);
    }
    if (filter.olderThanSeconds !== undefined) {
      where.push('created_at <= ?');
      params.push(new Date(now - filter.olderThanSeconds * 1000).toISOString());
    }
    return { sql: where.join(' AND '), params };
  }

  async outbox(query: OutboxQuery, now = Date.now()): Promise<OutboxPage> {
    const { sql, params } = this.where(query, now);
    const [count] = await this.sql.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM outbox WHERE ${sql}`,
      params,
    );
    const rows = await this.sql.query<OutboxListRow>(
      `SELECT event_id, callback_id, routing_key, created_at, published_at, attempts, last_error
       FROM outbox WHERE ${sql} ORDER BY created_at, event_id LIMIT ?`,
      [...params, query.limit ?? 100],
    );
    return {
      total: Number(count.n),
      items: rows.map((row) => ({
        eventId: row.event_id,
        callbackId: row.callback_id,
        routingKey: row.routing_key,
        createdAt: iso(row.created_at),
        publishedAt: row.published_at === null ? null : iso(row.published_at),
        ageSeconds: Math.max(0, Math.round((now - new Date(row.created_at).getTime()) / 1000)),
        attempts: Number(row.attempts),
        lastError: row.last_error,
      })),
    };
  }

  /** Republishes every row of the filter, only when as many match as the plan said. */
  async republishMatching(body: BulkRepublishBody): Promise<{ republished: number }> {
    const plan = await this.outbox({ ...body, limit: BULK_REPUBLISH_MAX });
    if (plan.total !== body.expectedCount) {
      throw new ConflictException(
        `The plan said ${body.expectedCount} events match, ${plan.total} match now: plan again`,
      );
    }
    for (const row of plan.items) await this.admin.republish(row.eventId);
    return { republished: plan.items.length };
  }

  async audit(query: AuditQuery): Promise<AuditPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.action !== undefined) {
      where.push('action = ?');
      params.push(query.action);
    }
    // details is the JSON the audit interceptor wrote: its fields in a fixed order and form.
    if (query.operator !== undefined) {
      where.push(`details LIKE ? ESCAPE '!'`);
      params.push(
        `%${JSON.stringify({ operator: query.operator }).slice(1, -1).replace(/[!%_]/g, '!$&')}%`,
      );
    }
    if (query.actionsOnly === 'true') where.push(`details NOT LIKE '{"method":"GET"%'`);
    const rows = await this.sql.query<AuditRow & { details: string }>(
      `SELECT at, action, target, details FROM admin_audit
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC LIMIT ?`,
      [...params, query.limit ?? 100],
    );
    return {
      items: rows.map((row) => {
        let via: unknown;
        try {
          via = (JSON.parse(row.details) as { via?: unknown }).via;
        } catch {
          via = null;
        }
        return { ...auditView(row), via: typeof via === 'string' ? via : null };
      }),
    };
  }
}
