import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { SqlDialect } from '../persistence/sql-dialect.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows deleted per statement: keeps each transaction (and its locks) short. */
export const RETENTION_BATCH = 500;
/** The first batch of a run: small, the next ones sized by the time budget below. */
const FIRST_BATCH = 100;
/** Smallest batch the time budget may shrink a batch to. */
const MIN_BATCH = 10;
/**
 * What one batch may take: deleting a row costs its index entries and cascaded outbox rows, which
 * on a large, cold history can be milliseconds each. Each next batch is sized from the last one's
 * time per row, so a batch (and the locks it holds) stays near this bound whatever the table size.
 */
export const RETENTION_BATCH_BUDGET_MS = 50;
/** The first run comes this soon after start, so frequent restarts cannot starve the job. */
const FIRST_RUN_DELAY_MS = 60_000;

/**
 * One batch of accepted callbacks past their retention whose events are all published (parameters:
 * cutoff, batch size). The oldest first along `callbacks_received_at`; "has an unpublished event"
 * is a probe into the small partial index `outbox_unpublished_callback`, so a publish backlog
 * costs nothing here.
 */
export const ACCEPTED_PURGE = `DELETE FROM callbacks WHERE id IN (
     SELECT c.id FROM callbacks c
     WHERE c.outcome IN ('accepted', 'superseded') AND c.received_at < ?
       AND NOT EXISTS (
         SELECT 1 FROM outbox o WHERE o.callback_id = c.id AND o.published_at IS NULL)
     ORDER BY c.received_at LIMIT ?)
   RETURNING id`;

/**
 * One batch of rejected attempts past their retention (parameters: cutoff, batch size), along the
 * partial index `callbacks_rejected_received_at`: it reads only rejected rows, so with nothing
 * to delete it stops at the first one, however many accepted callbacks are older than the cutoff.
 */
export const REJECTED_PURGE = `DELETE FROM callbacks WHERE id IN (
     SELECT c.id FROM callbacks c
     WHERE c.outcome NOT IN ('accepted', 'superseded', 'quarantined') AND c.received_at < ?
     ORDER BY c.received_at LIMIT ?)
   RETURNING id`;

/** One retention batch as it ran: rows asked for, rows deleted, milliseconds. */
export interface RetentionBatch {
  size: number;
  deleted: number;
  ms: number;
}

/** The next batch's size: the last one's time per row scaled to the budget, within the bounds. */
export function nextBatchSize(size: number, elapsedMs: number): number {
  return Math.max(
    MIN_BATCH,
    Math.min(
      RETENTION_BATCH,
      Math.floor((size * RETENTION_BATCH_BUDGET_MS) / Math.max(elapsedMs, 1)),
    ),
  );
}

/**
 * Runs `statement` (parameters: cutoff, batch size) batch after batch until a batch deletes fewer
 * rows than it asked for: the first batch is FIRST_BATCH rows, each next one sized by
 * nextBatchSize from the last one's time. What the gateway's job runs, and what the benchmark
 * times (`onBatch`). Resolves to the rows deleted.
 */
export async function purgeInBatches(
  query: (statement: string, params: unknown[]) => Promise<unknown[]>,
  statement: string,
  options: {
    before: string;
    stopping?: () => boolean;
    onBatch?: (batch: RetentionBatch) => void;
    maxBatches?: number;
  },
): Promise<number> {
  let total = 0;
  let size = FIRST_BATCH;
  for (let n = 0; n < (options.maxBatches ?? Infinity) && !options.stopping?.(); n += 1) {
    const started = performance.now();
    const rows = await query(statement, [options.before, size]);
    const ms = performance.now() - started;
    total += rows.length;
    options.onBatch?.({ size, deleted: rows.length, ms });
    if (rows.length < size) break;
    size = nextBatchSize(size, ms);
    // Let the hot path in between batches (SQLite runs these synchronously).
    await new Promise((resolve) => setImmediate(resolve));
  }
  return total;
}

export interface RetentionResult {
  /** Accepted callbacks deleted (with their outbox rows, which cascade). */
  accepted: number;
  /** Rejected attempts deleted. */
  rejected: number;
}

/**
 * Purges old callbacks: accepted (and superseded) ones older than CALLBACK_RETENTION_DAYS whose
 * events are ALL published (their outbox rows go with them, ON DELETE CASCADE), and rejected
 * attempts older than REJECTED_RETENTION_DAYS. A callback with an unpublished event is never
 * deleted, however old, nor is a quarantined one (an authentic callback waiting for a mapper fix).
 * Runs every RETENTION_INTERVAL_MINUTES (first one a minute after start), in batches of
 * at most RETENTION_BATCH rows, fewer when a batch would take longer than
 * RETENTION_BATCH_BUDGET_MS; one run at a time per instance, and replicas may run concurrently
 * (a DELETE of rows another instance already deleted deletes nothing).
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private firstRun: NodeJS.Timeout | undefined;
  private running: Promise<RetentionResult> | null = null;
  private stopping = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly sql: SqlDialect,
  ) {}

  onApplicationBootstrap(): void {
    const tick = () => void this.runOnce().catch(() => undefined);
    this.firstRun = setTimeout(tick, FIRST_RUN_DELAY_MS);
    this.firstRun.unref();
    this.timer = setInterval(tick, this.config.retention.intervalMinutes * 60_000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.firstRun);
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One purge now (also what the timer runs). A run already under way is joined, not doubled. */
  runOnce(now: Date = new Date()): Promise<RetentionResult> {
    this.running ??= this.purge(now).finally(() => (this.running = null));
    return this.running;
  }

  private async purge(now: Date): Promise<RetentionResult> {
    const { acceptedDays, rejectedDays } = this.config.retention;
    const acceptedBefore = new Date(now.getTime() - acceptedDays * DAY_MS).toISOString();
    const rejectedBefore = new Date(now.getTime() - rejectedDays * DAY_MS).toISOString();
    const result: RetentionResult = { accepted: 0, rejected: 0 };
    try {
      result.accepted = await this.inBatches(ACCEPTED_PURGE, acceptedBefore);
      result.rejected = await this.inBatches(REJECTED_PURGE, rejectedBefore);
    } catch (error) {
      this.logger.warn(
        `Retention run interrupted after deleting ${result.accepted} accepted callbacks and ${result.rejected} rejected attempts: ${(error as Error).message}`,
      );
      throw error;
    }
    if (result.accepted > 0 || result.rejected > 0) {
      this.logger.log(
        `Retention deleted ${result.accepted} accepted callbacks older than ${acceptedDays} days (events published) and ${result.rejected} rejected attempts older than ${rejectedDays} days`,
      );
    } else {
      this.logger.debug('Retention: nothing to delete');
    }
    return result;
  }

  private inBatches(statement: string, before: string): Promise<number> {
    return purgeInBatches((sql, params) => this.sql.query<{ id: string }>(sql, params), statement, {
      before,
      stopping: () => this.stopping,
    });
  }
}
