import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import type { OutboxRecord } from './outbox-record.js';
import { OutboxRepository } from './outbox.repository.js';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import { tracedPublish } from '../observability/tracing.js';
import { EventPublisher } from '../messaging/event-publisher.js';
import { safeErrorText } from '../common/safe-error.js';

const MARK_BATCH = 200;
const MARK_DELAY_MS = 5;

/**
 * Moves outbox rows to RabbitMQ. Two paths: right after a commit the ingest hands over the row it
 * just wrote (leased to this instance, so no other replica's sweep takes it); and a periodic sweep
 * claims whatever is unpublished and unleased or whose lease expired (broker outage, crash,
 * another replica that died). A row is marked published only after the broker's confirm.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly inFlight = new Set<Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;
  private pendingMarks: string[] = [];
  private markTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly outbox: OutboxRepository,
    private readonly publisher: EventPublisher,
    private readonly metrics: GatewayMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.publisher.on('ready', () => void this.sweep());
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.outbox.sweepIntervalMs);
    this.sweepTimer.unref();
    void this.sweep();
  }

  /**
   * The lease a freshly stored row gets: held by this instance when it is about to publish it,
   * none when the broker is down (so the sweep picks it up as soon as the broker is back).
   */
  leaseForNewRow(): { owner: string; until: Date } | null {
    if (this.stopping || !this.publisher.connected) return null;
    return { owner: this.instanceId, until: new Date(Date.now() + this.config.outbox.leaseMs) };
  }

  /** Fast path: publish a row this instance just committed and leased. */
  publishCommitted(record: OutboxRecord): void {
    this.track(this.publishOne(record));
  }

  /** Claims and publishes unpublished rows until none are left (or the broker goes away). */
  sweep(): Promise<void> {
    if (this.sweeping || this.stopping || !this.publisher.connected)
      return this.sweeping ?? Promise.resolve();
    this.sweeping = this.drain().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async drain(): Promise<void> {
    const { leaseMs, batchSize } = this.config.outbox;
    try {
      while (!this.stopping && this.publisher.connected) {
        const rows = await this.outbox.claim(this.instanceId, leaseMs, batchSize);
        if (rows.length === 0) break;
        await Promise.all(rows.map((row) => this.publishOne(row)));
        await this.flushMarks();
        if (rows.length < batchSize) break;
      }
    } catch (error) {
      this.logger.warn(`Outbox sweep interrupted: ${safeErrorText(error)}`);
    }
  }

  private async publishOne(record: OutboxRecord): Promise<void> {
    try {
      // A publish span in the trace the event was stored in (a no-op when tracing is off).
      await tracedPublish(record, this.config.amqp.exchange, (headers) =>
        this.publisher.publish(record, headers),
      );
      this.metrics.eventsPublished.inc({ provider: record.provider });
      this.queueMark(record.eventId);
    } catch (error) {
      this.metrics.publishFailures.inc({ provider: record.provider });
      const reason = (error as Error).message ?? String(error);
      this.logger.warn(`Publishing event ${record.eventId} failed, will retry: ${reason}`);
      await this.outbox.release([record.eventId], reason).catch(() => undefined);
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private queueMark(eventId: string): void {
    this.pendingMarks.push(eventId);
    if (this.pendingMarks.length >= MARK_BATCH) {
      this.track(this.flushMarks());
    } else if (!this.markTimer) {
      this.markTimer = setTimeout(() => this.track(this.flushMarks()), MARK_DELAY_MS);
    }
  }

  private async flushMarks(): Promise<void> {
    clearTimeout(this.markTimer);
    this.markTimer = undefined;
    const ids = this.pendingMarks.splice(0);
    if (ids.length === 0) return;
    try {
      await this.outbox.markPublished(ids);
    } catch (error) {
      // The events went out; their rows stay leased and are published again after the lease ends.
      // At-least-once: consumers drop the repeat by event id.
      this.logger.warn(
        `Could not mark ${ids.length} events published: ${(error as Error).message}`,
      );
    }
  }

  /** Stop claiming, let in-flight publishes settle and record their confirms. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweepTimer);
    await this.sweeping;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.flushMarks();
  }
}
