import type { ConsumeMessage } from 'amqplib';
import { createHash } from 'node:crypto';

/**
 * Deliveries of one command before it is dead-lettered instead of requeued: a command that keeps
 * failing (storage down for minutes, a handler fault it causes) must not circle forever. Below
 * RabbitMQ 4's default quorum-queue delivery limit (20), which would drop it silently.
 */
export const MAX_COMMAND_DELIVERIES = 10;

/** First pause before a requeue; doubles per delivery up to REQUEUE_MAX_DELAY_MS. */
export const REQUEUE_BASE_DELAY_MS = 1_000;
export const REQUEUE_MAX_DELAY_MS = 60_000;

/** Commands remembered at once; the oldest is forgotten first (a bound on memory, not on counts). */
const REMEMBERED = 10_000;

/** What to do with a command that could not be handled this time. */
export type RetryDecision =
  | { action: 'requeue'; delivery: number; delayMs: number }
  | { action: 'dead-letter'; delivery: number };

/**
 * Counts the deliveries of each command that failed, so that every command taken from the queue
 * ends acknowledged, dead-lettered or requeued a bounded number of times. The count is the larger
 * of the broker's `x-delivery-count` (quorum queues, survives restarts and replicas) and this
 * replica's own count (classic queues).
 */
export class CommandDeliveries {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly maxDeliveries = MAX_COMMAND_DELIVERIES,
    private readonly baseDelayMs = REQUEUE_BASE_DELAY_MS,
    private readonly maxDelayMs = REQUEUE_MAX_DELAY_MS,
  ) {}

  /** Called when handling failed: requeue after a pause, or give up (dead-letter). */
  failed(message: ConsumeMessage): RetryDecision {
    const key = keyOf(message);
    const local = (this.failures.get(key) ?? 0) + 1;
    const delivery = Math.max(local, brokerDeliveries(message));
    this.failures.delete(key);
    if (delivery >= this.maxDeliveries) return { action: 'dead-letter', delivery };
    this.failures.set(key, delivery);
    if (this.failures.size > REMEMBERED) {
      this.failures.delete(this.failures.keys().next().value as string);
    }
    const delayMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (delivery - 1));
    return { action: 'requeue', delivery, delayMs };
  }

  /** The command ended (acknowledged or dead-lettered): nothing more to count. */
  settled(message: ConsumeMessage): void {
    if (this.failures.size > 0) this.failures.delete(keyOf(message));
  }

  get remembered(): number {
    return this.failures.size;
  }
}

/** Deliveries so far as the broker counts them (`x-delivery-count` counts redeliveries). */
function brokerDeliveries(message: ConsumeMessage): number {
  const count = message.properties.headers?.['x-delivery-count'];
  return typeof count === 'number' && Number.isFinite(count) ? count + 1 : 0;
}

/** One command: its body and message id (hashed, so a large body costs no memory). */
function keyOf(message: ConsumeMessage): string {
  const id = message.properties.messageId;
  return createHash('sha256')
    .update(typeof id === 'string' ? id : '')
    .update('\u0000')
    .update(message.content)
    .digest('base64');
}
