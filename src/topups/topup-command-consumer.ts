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
import {
  CommandDeliveries,
  MAX_COMMAND_DELIVERIES,
  REQUEUE_MAX_DELAY_MS,
} from './command-deliveries.js';
import { MalformedCommand, parseTopupCommand } from './topup-commands.js';
import { TopupDeadLetters } from './topup-dead-letters.js';
import { TopupMetrics } from './topup-metrics.js';
import { TopupOrderRefused, TopupOrdersService } from './topup-orders.service.js';

/** Unacknowledged commands in flight at once. */
const PREFETCH = 20;

/** Returns the message to the queue after a pause; a closed channel redelivers it anyway. */
function requeueLater(channel: Channel, message: ConsumeMessage, delayMs: number): void {
  setTimeout(() => {
    try {
      channel.nack(message, false, true);
    } catch {
      // channel already closed: the broker requeues unacknowledged messages itself
    }
  }, delayMs).unref();
}

/** An error's name and message for a log line or a reason, bounded, whatever was thrown. */
function errorText(error: unknown): string {
  const text =
    error instanceof Error ? `${error.name}: ${error.message}` : `thrown ${typeof error}`;
  return text.slice(0, 300);
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

  /** Failed deliveries per command, so that none is requeued without a bound. */
  readonly deliveries = new CommandDeliveries();

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
              this.onCommand(channel, message).catch((error: unknown) =>
                this.retryLater(channel, message, `not handled (${errorText(error)})`),
              );
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

  /**
   * Handles one command. Whatever it contains, it ends acknowledged (stored, or a repeat),
   * dead-lettered (it can never be taken, or failed MAX_COMMAND_DELIVERIES times) or requeued
   * after a growing pause: never held unacknowledged, never requeued without a bound.
   */
  async onCommand(channel: Channel, message: ConsumeMessage): Promise<void> {
    let parsed;
    try {
      parsed = parseTopupCommand(decode(message.content));
    } catch (error) {
      // Anything the parser throws (a stack overflow on a pathological body included) is a
      // property of the command: it would throw again on every delivery.
      const reason =
        error instanceof MalformedCommand
          ? error.message
          : `command could not be read (${errorText(error)})`;
      return this.reject(channel, message, reason);
    }
    try {
      const { created, order } = await this.orders.submit(parsed.order, 'amqp', parsed.id);
      this.metrics.commands.inc({ source: 'amqp', outcome: created ? 'accepted' : 'repeated' });
      this.reply(channel, message, { created, order });
      this.deliveries.settled(message);
      ack(channel, message);
    } catch (error) {
      if (error instanceof TopupOrderRefused) {
        return this.reject(channel, message, error.reason);
      }
      this.metrics.commands.inc({ source: 'amqp', outcome: 'unavailable' });
      this.retryLater(
        channel,
        message,
        `storing top-up command ${parsed.id.slice(0, 255)} failed (${errorText(error)})`,
      );
    }
  }

  /** Requeues after a growing pause, or dead-letters once the command has failed too often. */
  private retryLater(channel: Channel, message: ConsumeMessage, what: string): void {
    const decision = this.deliveries.failed(message);
    if (decision.action === 'requeue') {
      this.logger.error(
        `Top-up command ${what}; returning it to the queue in ${decision.delayMs} ms (delivery ${decision.delivery} of ${MAX_COMMAND_DELIVERIES})`,
      );
      requeueLater(channel, message, decision.delayMs);
      return;
    }
    this.logger.error(`Top-up command ${what} on delivery ${decision.delivery}; dead-lettering it`);
    void this.reject(
      channel,
      message,
      `failed on ${decision.delivery} deliveries, the last: ${what}`,
      true,
    );
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

  private async reject(
    channel: Channel,
    message: ConsumeMessage,
    reason: string,
    exhausted = false,
  ): Promise<void> {
    const id = (message.properties.messageId as string | undefined)?.slice(0, 255) ?? '(no id)';
    try {
      const { trimmed } = await this.deadLetters.deadLetter(message, reason);
      this.metrics.commands.inc({ source: 'amqp', outcome: 'dead-lettered' });
      const how = trimmed ? ' (headers trimmed: too large for one AMQP header frame)' : '';
      this.logger.warn(`Top-up command ${id} dead-lettered${how}: ${reason.slice(0, 1000)}`);
      this.deliveries.settled(message);
      ack(channel, message);
    } catch (error) {
      // The dead-letter queue cannot take it now (broker trouble): counted like any failure,
      // at the longest pause once the command has used up its deliveries.
      const decision = exhausted ? null : this.deliveries.failed(message);
      const delayMs = decision?.action === 'requeue' ? decision.delayMs : REQUEUE_MAX_DELAY_MS;
      this.logger.error(
        `Could not dead-letter top-up command ${id} (${reason.slice(0, 300)}): ${errorText(error)}; returning it to the queue in ${delayMs} ms`,
      );
      requeueLater(channel, message, delayMs);
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
