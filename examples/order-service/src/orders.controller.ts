import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RmqContext } from '@nestjs/microservices';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { CloudEvent, Transaction } from './cloud-event.deserializer.js';
import { OrdersService } from './orders.service.js';
import { ProcessedEvents } from './processed-events.js';

export interface HandlingStats {
  /** Events applied: an order marked paid (or found already paid by another event). */
  handled: number;
  /** Redeliveries of an event id already handled: acknowledged, not applied again. */
  duplicates: number;
  /** Handler failures: the message was returned to the queue for redelivery. */
  failed: number;
  /** Messages that can never be handled (no subject/id): rejected without requeue. */
  rejected: number;
  /**
   * Events older than the transaction state already applied (their `transactionVersion` is not
   * higher than the one held: a late redelivery, or events overtaking each other): acknowledged,
   * not applied.
   */
  stale: number;
}

/**
 * Consumes `payment.succeeded` CloudEvents. The queue runs with manual acknowledgement
 * (`noAck: false`), so every path below must ack, nack or reject the message itself.
 */
@Controller()
export class OrdersController {
  private readonly logger = new Logger(OrdersController.name);
  readonly stats: HandlingStats = { handled: 0, duplicates: 0, failed: 0, rejected: 0, stale: 0 };

  constructor(
    private readonly orders: OrdersService,
    private readonly processed: ProcessedEvents,
  ) {}

  // `<string>` selects the untyped overload: Nest 12's typed one requires `(data, ...args: unknown[])`
  // and so rejects a handler whose second parameter is `@Ctx() context: RmqContext`.
  @EventPattern<string>('payment.succeeded')
  onPaymentSucceeded(@Payload() event: CloudEvent<Transaction>, @Ctx() context: RmqContext): void {
    const channel = context.getChannelRef() as Channel;
    const message = context.getMessage() as ConsumeMessage;

    if (!event.id || !event.subject || !event.data) {
      // Retrying cannot fix it: reject without requeue (dead-lettered if the queue has a DLX).
      this.stats.rejected += 1;
      this.logger.error(`Rejecting malformed ${event.type} event ${event.id ?? '(no id)'}`);
      channel.nack(message, false, false);
      return;
    }
    if (this.processed.has(event.id)) {
      this.stats.duplicates += 1;
      this.logger.log(`Ignoring duplicate event ${event.id} (order ${event.subject})`);
      channel.ack(message);
      return;
    }
    // Events of one transaction can arrive out of order (the gateway publishes in parallel,
    // redeliveries happen): apply one only if its version is higher than the one held.
    const transaction = `${event.source}/${event.data.providerTransactionId ?? event.subject}`;
    const version = event.data.transactionVersion;
    if (typeof version === 'number' && !this.orders.isNewer(transaction, version)) {
      this.stats.stale += 1;
      this.logger.log(
        `Ignoring event ${event.id}: version ${version} of ${transaction} is not newer than the one applied`,
      );
      channel.ack(message);
      return;
    }
    try {
      // A real service does this and the processed-events insert in one database transaction.
      this.orders.markPaid({
        reference: event.subject,
        amount: event.data.amount,
        currency: event.data.currency,
        provider: event.data.provider,
        providerTransactionId: event.data.providerTransactionId,
        eventId: event.id,
        paidAt: event.time ?? event.data.occurredAt,
      });
      // Remember only after the work succeeded, so a failed attempt is retried, not "deduplicated".
      this.processed.remember(event.id);
      if (typeof version === 'number') this.orders.holdVersion(transaction, version);
      this.stats.handled += 1;
      channel.ack(message);
    } catch (error) {
      this.stats.failed += 1;
      this.logger.error(`Event ${event.id} failed, returning it to the queue: ${String(error)}`);
      // Requeue for redelivery. Production: retry with a delay and a dead-letter queue, so one
      // poison message cannot spin in a tight redelivery loop.
      channel.nack(message, false, true);
    }
  }
}
