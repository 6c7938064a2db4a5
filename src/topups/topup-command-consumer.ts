import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Channel, ConsumeMessage } from 'amqplib';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type BrokerComponentLink, brokerComponent } from '../messaging/broker-link.js';
import { BrokerStatus } from '../messaging/broker-status.js';
import { MalformedCommand, parseTopupCommand } from './topup-commands.js';
import { TopupDeadLetters } from './topup-dead-letters.js';
import { TopupMetrics } from './topup-metrics.js';
import { TopupOrderRefused, TopupOrdersService } from './topup-orders.service.js';

/** Unacknowledged commands in flight at once. */
const PREFETCH = 20;

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

/** Acknowledges unless the channel closed meanwhile (the broker then redelivers: a repeat, no second order). */
function ack(channel: Channel, message: ConsumeMessage): void {
  try {
    channel.ack(message);
  } catch {
    // channel closed
  }
}

/** The body as JSON when it is JSON, else as text (the parser then refuses it). */
function decode(content: Buffer): unknown {
  const text = content.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Consumes `topup.requested` commands from the durable commands queue (manual ack, bounded
 * prefetch). A command is acknowledged only after its order is committed; a repeat is
 * acknowledged without a second order. One the gateway can never take goes to the dead-letter
 * queue with the reason, then is acknowledged: it is never requeued forever. A storage outage
 * returns it to the queue.
 *
 * The gateway's own consumer on its own connection: no broker condition (a node down, the
 * queue's node down, a channel closed by the server, a cancelled consumer) ends the process; it
 * declares the queue and consumes again by itself, with back-off, and reports its state.
 */
@Injectable()
export class TopupCommandConsumer
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private broker: BrokerComponentLink | undefined;
  private readonly logger = new Logger('Broker:topup-commands');

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly status: BrokerStatus,
    private readonly orders: TopupOrdersService,
    private readonly deadLetters: TopupDeadLetters,
    private readonly metrics: TopupMetrics,
  ) {}

  /** Starts once every module is ready; connects whenever the broker can be reached. */
  onApplicationBootstrap(): void {
    const { amqp, serviceName, topups } = this.config;
    const queue = topups.commandsQueue;
    const broker = brokerComponent(
      'topup-commands',
      { urls: amqp.urls, serviceName, status: this.status },
      {
        name: 'top-up commands',
        confirm: false,
        setup: async (channel, connection, declare) => {
          await declare.queue(connection, queue, amqp.queueType);
          await channel.prefetch(PREFETCH);
          await channel.consume(queue, (message) => {
            if (message) {
              this.onCommand(channel, message).catch((error: unknown) => {
                this.logger.error(`Top-up command not handled: ${(error as Error).message}`);
                requeueLater(channel, message);
              });
            } else {
              // basic.cancel from the server (queue deleted, its leader moved or its node lost).
              this.logger.warn(`Consumer of ${queue} cancelled by RabbitMQ; consuming again`);
              broker.channel.restart('consumer cancelled by RabbitMQ');
            }
          });
        },
      },
    );
    this.broker = broker;
  }

  async onCommand(channel: Channel, message: ConsumeMessage): Promise<void> {
    let parsed;
    try {
      parsed = parseTopupCommand(decode(message.content));
    } catch (error) {
      if (!(error instanceof MalformedCommand)) throw error;
      return this.reject(channel, message, error.message);
    }
    try {
      const { created, order } = await this.orders.submit(parsed.order, 'amqp', parsed.id);
      this.metrics.commands.inc({ source: 'amqp', outcome: created ? 'accepted' : 'repeated' });
      this.reply(channel, message, { created, order });
      ack(channel, message);
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
    try {
      channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(answer)), {
        correlationId,
        contentType: 'application/json',
      });
    } catch {
      // channel closed: the redelivered command is answered again
    }
  }

  private async reject(channel: Channel, message: ConsumeMessage, reason: string): Promise<void> {
    try {
      await this.deadLetters.deadLetter(message, reason);
      this.metrics.commands.inc({ source: 'amqp', outcome: 'dead-lettered' });
      this.logger.warn(
        `Top-up command ${message.properties.messageId ?? '(no id)'} dead-lettered: ${reason}`,
      );
      ack(channel, message);
    } catch (error) {
      this.logger.error(
        `Could not dead-letter a top-up command (${reason}): ${(error as Error).message}; returning it to the queue`,
      );
      requeueLater(channel, message);
    }
  }

  /** No new commands while the gateway drains; unacknowledged ones go back to the queue. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.broker?.channel.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker?.close();
  }
}
