import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RmqContext } from '@nestjs/microservices';
import type { Channel, ConsumeMessage } from 'amqplib';
import { TOPUP_COMMAND_PATTERN, MalformedCommand, parseTopupCommand } from './topup-commands.js';
import { TopupDeadLetters } from './topup-dead-letters.js';
import { TopupMetrics } from './topup-metrics.js';
import { TopupOrderRefused, TopupOrdersService } from './topup-orders.service.js';

/** Pause before a command is returned to the queue, so an outage is not a tight redelivery loop. */
const REQUEUE_DELAY_MS = 1_000;

/** Returns the message to the queue after a pause; a closed channel redelivers it anyway. */
function requeueLater(channel: Channel, message: ConsumeMessage): void {
  setTimeout(() => {
    try {
      channel.nack(message, false, true);
    } catch {
      // channel already closed: the broker requeues unacknowledged messages itself
    }
  }, REQUEUE_DELAY_MS).unref();
}

/**
 * Consumes `topup.requested` commands (RMQ transport, manual ack). A command is acknowledged only
 * after its order is committed; a repeat is acknowledged without a second order. One the gateway
 * can never take goes to the dead-letter queue with the reason, then is acknowledged: it is never
 * requeued forever. A storage outage returns it to the queue.
 */
@Controller()
export class TopupCommandsController {
  private readonly logger = new Logger(TopupCommandsController.name);

  constructor(
    private readonly orders: TopupOrdersService,
    private readonly deadLetters: TopupDeadLetters,
    private readonly metrics: TopupMetrics,
  ) {}

  // `<string>` selects the untyped overload (a second parameter with @Ctx()).
  @EventPattern<string>(TOPUP_COMMAND_PATTERN)
  async onCommand(@Payload() value: unknown, @Ctx() context: RmqContext): Promise<void> {
    const channel = context.getChannelRef() as Channel;
    const message = context.getMessage() as ConsumeMessage;
    let parsed;
    try {
      parsed = parseTopupCommand(value);
    } catch (error) {
      if (!(error instanceof MalformedCommand)) throw error;
      return this.reject(channel, message, error.message);
    }
    try {
      const { created, order } = await this.orders.submit(parsed.order, 'amqp', parsed.id);
      this.metrics.commands.inc({ source: 'amqp', outcome: created ? 'accepted' : 'repeated' });
      this.reply(channel, message, { created, order });
      channel.ack(message);
    } catch (error) {
      if (error instanceof TopupOrderRefused) {
        return this.reject(channel, message, error.reason);
      }
      this.metrics.commands.inc({ source: 'amqp', outcome: 'unavailable' });
      this.logger.error(
        `Storing top-up command ${parsed.id} failed, returning it to the queue: ${(error as Error).message}`,
      );
      requeueLater(channel, message);
    }
  }

  /** Answers the known state to `replyTo` when the command asked for a reply. */
  private reply(channel: Channel, message: ConsumeMessage, answer: unknown): void {
    const { replyTo, correlationId } = message.properties;
    if (typeof replyTo !== 'string' || replyTo === '') return;
    channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(answer)), {
      correlationId,
      contentType: 'application/json',
    });
  }

  private async reject(channel: Channel, message: ConsumeMessage, reason: string): Promise<void> {
    try {
      await this.deadLetters.deadLetter(message, reason);
      this.metrics.commands.inc({ source: 'amqp', outcome: 'dead-lettered' });
      this.logger.warn(
        `Top-up command ${message.properties.messageId ?? '(no id)'} dead-lettered: ${reason}`,
      );
      channel.ack(message);
    } catch (error) {
      this.logger.error(
        `Could not dead-letter a top-up command (${reason}): ${(error as Error).message}; returning it to the queue`,
      );
      requeueLater(channel, message);
    }
  }
}
