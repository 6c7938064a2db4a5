import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { uuidV7 } from '../common/uuid-v7.js';
import { Counter } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { CallbackProviderRegistry } from '../ingest/provider-registry.js';
import type { InboundCallback } from '../ingest/callback-provider.js';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import { encodeRawBody, searchableReference } from '../transactions/callback-store.js';
import type { CallbackOutcome } from '../persistence/stored-callback.entity.js';
import { SqlDialect } from '../persistence/sql-dialect.js';
import { storableText } from '../common/printable.js';
import { safeErrorText } from '../common/safe-error.js';

/** What callback-traffic.ts needs of the recorder. */
export interface RejectedAttemptSink {
  record(attempt: RejectedAttempt): void;
}

export interface RejectedAttempt {
  provider: string;
  inbound: InboundCallback;
  status: number;
  /** The error message the client was answered with. */
  message: string;
}

/** Statuses recorded, and the outcome stored for each. */
const OUTCOME_BY_STATUS: Record<number, Exclude<CallbackOutcome, 'accepted'>> = {
  400: 'invalid',
  401: 'rejected_auth',
  403: 'rejected_address',
  413: 'invalid',
  415: 'invalid',
};

export function rejectedOutcomeFor(status: number): Exclude<CallbackOutcome, 'accepted'> | null {
  return OUTCOME_BY_STATUS[status] ?? null;
}

/** The same headers an accepted callback keeps (plus the provider's own, e.g. signatures). */
const ALWAYS_RECORDED_HEADERS = [
  'content-type',
  'content-length',
  'user-agent',
  'x-forwarded-for',
  'x-request-id',
];
/** Most attempts waiting to be written; beyond that they are skipped (a flood cannot pile up). */
export const MAX_QUEUED_ATTEMPTS = 256;
/** Rows per INSERT statement (16 parameters each). */
const ROWS_PER_STATEMENT = 50;
const MAX_HEADER_VALUE = 256;
const MAX_MESSAGE = 1000;
const MINUTE_MS = 60_000;
/** Source addresses tracked per minute for REJECTED_PER_SOURCE_PER_MINUTE. */
const MAX_TRACKED_SOURCES = 50_000;

const COLUMNS = `id, provider, account, transaction_key, status, event_id, outcome, source_ip, method, path,
  headers, raw_body, raw_body_encoding, verification, received_at, merchant_reference`;
const ROW = `(${Array.from({ length: 16 }, () => '?').join(', ')})`;

/**
 * Records refused /callbacks requests (400/401/403/413/415 once the provider is known) as
 * `callbacks` rows with a rejected outcome and NULL de-duplication columns — best effort and off
 * the response path: called from the response's 'finish' hook, it only queues the row. Queued
 * rows are written in batches (one statement on PostgreSQL, one transaction on SQLite, so a flood
 * of forgeries costs one fsync per batch, not per request). A stranger cannot grow storage: only
 * the first REJECTED_BODY_BYTES of a body are kept (nothing refused was authenticated), header
 * values and messages are cut short, and at most REJECTED_PER_SOURCE_PER_MINUTE records per source
 * address and REJECTED_PER_MINUTE in total are written per minute (`limited`). At most
 * MAX_QUEUED_ATTEMPTS wait (`skipped` beyond); write errors are swallowed (`failed`): all counted
 * in `gateway_rejected_attempts_total{result}`, none ever reaching a client.
 */
@Injectable()
export class RejectedAttemptRecorder implements RejectedAttemptSink, BeforeApplicationShutdown {
  private readonly logger = new Logger(RejectedAttemptRecorder.name);
  private queue: unknown[][] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private readonly counter: Counter<'result'>;
  private readonly limits: GatewayConfig['rejectedAttempts'];
  /** Records written this minute: in total and per source address. */
  private window = { endsAt: 0, total: 0, bySource: new Map<string, number>() };

  constructor(
    private readonly sql: SqlDialect,
    private readonly providers: CallbackProviderRegistry,
    metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.limits = config.rejectedAttempts;
    this.counter = new Counter({
      name: 'gateway_rejected_attempts_total',
      help: 'Refused callback requests by what became of their record: recorded, limited (over the per-minute bounds), skipped (queue full) or failed (write error)',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
    });
  }

  /** Queues the attempt; never throws, never waits. */
  record(attempt: RejectedAttempt): void {
    try {
      const outcome = rejectedOutcomeFor(attempt.status);
      if (!outcome) return;
      if (!this.withinLimits(attempt.inbound.clientIp)) {
        this.counter.inc({ result: 'limited' });
        return;
      }
      if (this.queue.length >= MAX_QUEUED_ATTEMPTS) {
        this.counter.inc({ result: 'skipped' });
        return;
      }
      this.queue.push(this.row(attempt, outcome));
      this.schedule();
    } catch (error) {
      this.counter.inc({ result: 'failed' });
      this.logger.warn(`Could not queue a rejected attempt: ${safeErrorText(error)}`);
    }
  }

  /** Counts the record against this minute's bounds; false when one of them is reached. */
  private withinLimits(source: string, now = Date.now()): boolean {
    if (now >= this.window.endsAt)
      this.window = { endsAt: now + MINUTE_MS, total: 0, bySource: new Map() };
    const { bySource } = this.window;
    const fromSource = bySource.get(source) ?? 0;
    if (this.window.total >= this.limits.perMinute || fromSource >= this.limits.perSourcePerMinute)
      return false;
    if (fromSource === 0 && bySource.size >= MAX_TRACKED_SOURCES) return false;
    bySource.set(source, fromSource + 1);
    this.window.total += 1;
    return true;
  }

  /** Rows queued but not yet written (tests, shutdown). */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued so far (tests wait on it; shutdown calls it). */
  async flush(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (this.flushing) await this.flushing;
      else await this.startFlush();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush().catch(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing) void this.startFlush();
    });
  }

  private startFlush(): Promise<void> {
    const rows = this.queue.splice(0);
    this.flushing = this.write(rows).finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async write(rows: unknown[][]): Promise<void> {
    if (rows.length === 0) return;
    try {
      if (this.sql.isPostgres) {
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
          await this.sql.query(
            `INSERT INTO callbacks (${COLUMNS}) VALUES ${chunk.map(() => ROW).join(', ')}`,
            chunk.flat(),
          );
        }
      } else {
        this.sql.sqliteTransaction((run) => {
          for (const row of rows) run(`INSERT INTO callbacks (${COLUMNS}) VALUES ${ROW}`, row);
        });
      }
      this.counter.inc({ result: 'recorded' }, rows.length);
    } catch (error) {
      this.counter.inc({ result: 'failed' }, rows.length);
      this.logger.warn(
        `Could not record ${rows.length} rejected callback attempts: ${(error as Error).message}`,
      );
    }
  }

  private row(attempt: RejectedAttempt, outcome: string): unknown[] {
    const { inbound, provider } = attempt;
    const body = encodeRawBody(inbound.rawBody.subarray(0, this.limits.bodyBytes));
    const extra = this.providers.get(provider)?.recordedHeaders ?? [];
    const headers: Record<string, string> = {};
    for (const name of [...ALWAYS_RECORDED_HEADERS, ...extra]) {
      const value = inbound.headers[name];
      if (value !== undefined) {
        headers[name] = (Array.isArray(value) ? value.join(', ') : value).slice(
          0,
          MAX_HEADER_VALUE,
        );
      }
    }
    return [
      uuidV7(),
      provider.slice(0, 32),
      null, // account, transaction_key, status: NULL, so the de-duplication index never applies
      null,
      null,
      null, // no event
      outcome,
      storableText(inbound.clientIp).slice(0, 64),
      storableText(inbound.method).slice(0, 8),
      storableText(inbound.path).slice(0, 255),
      JSON.stringify(headers),
      body.text,
      body.encoding,
      // The message may quote what the client sent: escaped, or one NUL would fail the batch.
      storableText(`HTTP ${attempt.status}: ${attempt.message}`).slice(0, MAX_MESSAGE),
      inbound.receivedAt.toISOString(),
      readableReference(inbound, this.providers.get(provider)?.referenceField),
    ];
  }
}

/**
 * The merchant reference a refused request states, where it can be read (a plain body or query
 * field): unauthenticated, so only ever a search aid — it never reaches a transaction.
 */
function readableReference(
  inbound: RejectedAttempt['inbound'],
  field: string | undefined,
): string | null {
  if (!field) return null;
  const body = inbound.body;
  const fromBody =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)[field]
      : undefined;
  const value = typeof fromBody === 'string' ? fromBody : inbound.query?.[field];
  return typeof value === 'string' && value.length > 0
    ? searchableReference(storableText(value))
    : null;
}
