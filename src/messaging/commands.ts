import {
  type BeforeApplicationShutdown,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { GatewayConfig } from '../config/gateway-config.js';
import { validationMessages } from '../common/validate-fields.js';
import {
  CommandDeliveries,
  MAX_COMMAND_DELIVERIES,
  REQUEUE_MAX_DELAY_MS,
} from './command-deliveries.js';
import { type BrokerComponentLink, brokerComponent, confirmed } from './broker-link.js';
import type { BrokerComponent, BrokerStatus } from './broker-status.js';

/**
 * Commands other services send the gateway on RabbitMQ (`topup.requested`, `payment.expected`):
 * a CloudEvent in structured mode on a durable queue, consumed with manual acks; one the gateway
 * can never take goes to that queue's dead-letter queue with the reason.
 */

/** A command the gateway can never take, and why (dead-lettered with this reason). */
export class MalformedCommand extends Error {}

/** Thrown by a command's handler: the command can never be taken (a conflicting repeat, …). */
export class CommandRefused extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A short description of a value for a refusal reason, whatever it holds: never serializes
 * nested values (a 20,000-deep array makes JSON.stringify throw RangeError).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
  }
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

/** The envelope of a command CloudEvent of `type`: its id and its `data`, or MalformedCommand. */
export function commandEnvelope(value: unknown, type: string): { id: string; data: unknown } {
  if (typeof value === 'string') throw new MalformedCommand('body is not JSON');
  if (!isObject(value)) throw new MalformedCommand('body is not a JSON object (a CloudEvent)');
  const problems: string[] = [];
  if (value.specversion !== '1.0') problems.push('specversion must be "1.0"');
  if (typeof value.id !== 'string' || value.id.trim() === '' || value.id.length > 255)
    problems.push('id must be a non-empty string (at most 255 characters)');
  if (typeof value.source !== 'string' || value.source.trim() === '')
    problems.push('source must be a non-empty string');
  if (value.type !== type)
    problems.push(`type must be "${type}" (got ${describeValue(value.type)})`);
  if (!isObject(value.data)) problems.push('data must be an object');
  if (problems.length > 0)
    throw new MalformedCommand(`not a ${type} CloudEvent: ${problems.join('; ')}`);
  return { id: value.id as string, data: value.data };
}

/** `data` validated as `dto` with unknown fields refused, or MalformedCommand listing every problem. */
export function validateCommandData<T extends object>(
  dto: new () => T,
  data: unknown,
  what: string,
): T {
  if (!isObject(data)) throw new MalformedCommand(`the ${what} must be a JSON object`);
  const value = plainToInstance(dto, data);
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new MalformedCommand(`invalid data: ${validationMessages(errors).join('; ')}`);
  }
  return value;
}

/** Header of a dead-lettered command: why the gateway could not take it. */
export const REJECTION_REASON_HEADER = 'x-rejection-reason';

/** Header of a dead-lettered command sent trimmed: what was cut. */
export const TRIMMED_HEADER = 'x-headers-trimmed';

/** A trimmed copy keeps at most this many of the original headers, each value cut to this length. */
const TRIMMED_HEADERS = 32;
const TRIMMED_VALUE_CHARS = 256;

/**
 * The dead-letter copy's headers: the original ones, the reason and the queue it came from.
 * Trimmed (when the whole set cannot be encoded), it keeps the first 32 original headers whose
 * value is a string, number or boolean, strings cut to 256 characters, and names what was cut in
 * `x-headers-trimmed`: at most about 50 KB even in four-byte characters, always within one header frame.
 */
export function deadLetterHeaders(
  original: Record<string, unknown> | undefined,
  reason: string,
  queue: string,
  trim = false,
): Record<string, unknown> {
  const own = { [REJECTION_REASON_HEADER]: reason.slice(0, 2000), 'x-original-queue': queue };
  if (!trim) return { ...(original ?? {}), ...own };
  const kept: Record<string, unknown> = {};
  let cut = 0;
  let dropped = 0;
  for (const [name, value] of Object.entries(original ?? {})) {
    const scalar = ['string', 'number', 'boolean'].includes(typeof value);
    if (!scalar || Object.keys(kept).length >= TRIMMED_HEADERS || name.length > 255) {
      dropped += 1;
    } else if (typeof value === 'string' && value.length > TRIMMED_VALUE_CHARS) {
      kept[name] = value.slice(0, TRIMMED_VALUE_CHARS);
      cut += 1;
    } else {
      kept[name] = value;
    }
  }
  return {
    ...kept,
    ...own,
    [TRIMMED_HEADER]: `the original headers did not fit in one AMQP header frame: ${dropped} dropped, ${cut} cut to ${TRIMMED_VALUE_CHARS} characters`,
  };
}

/** Which queues a kind of command uses. */
export interface CommandQueues {
  /** The broker component's name (metrics, readiness): `topup-commands`. */
  component: Extract<BrokerComponent, `${string}-commands`>;
  commands: string;
  deadLetters: string;
}

/**
 * The dead-letter queue of one kind of command. Declared by the gateway (QUEUE_TYPE); each message
 * is the command as received, with the reason in a header, published on a confirm channel so the
 * original is acknowledged only once its copy is safe. Reconnects on its own.
 */
export class CommandDeadLetters {
  private broker: BrokerComponentLink | undefined;

  constructor(
    protected readonly config: GatewayConfig,
    private readonly status: BrokerStatus,
    private readonly queues: () => CommandQueues,
  ) {}

  start(): void {
    const { amqp, serviceName } = this.config;
    const { component, deadLetters } = this.queues();
    this.broker = brokerComponent(
      component.replace(/-commands$/, '-dead-letters') as BrokerComponent,
      { urls: amqp.urls, serviceName, status: this.status },
      {
        name: 'dead-letter',
        confirm: true,
        setup: (_channel, connection, declare) =>
          declare.queue(connection, deadLetters, amqp.queueType),
      },
    );
  }

  /**
   * Resolves once the broker confirmed the copy; rejects otherwise (the caller then requeues).
   * A copy whose headers do not fit in one AMQP header frame (amqplib encodes at most 64 KiB of
   * them and throws otherwise) is sent trimmed: see deadLetterHeaders.
   */
  async deadLetter(message: ConsumeMessage, reason: string): Promise<{ trimmed: boolean }> {
    const channel = this.broker?.channel.current as ConfirmChannel | null;
    if (!channel)
      throw new Error(`dead-letter channel is not open: ${this.broker?.channel.lastError}`);
    const { commands, deadLetters } = this.queues();
    const { properties } = message;
    const send = (headers: Record<string, unknown>) =>
      confirmed(this.config.amqp.publishTimeoutMs, (callback) =>
        channel.sendToQueue(
          deadLetters,
          message.content,
          {
            persistent: true,
            messageId: properties.messageId,
            correlationId: properties.correlationId,
            contentType: properties.contentType,
            type: properties.type,
            timestamp: Math.floor(Date.now() / 1000),
            appId: this.config.serviceName,
            headers,
          },
          callback,
        ),
      );
    try {
      await send(deadLetterHeaders(properties.headers, reason, commands));
      return { trimmed: false };
    } catch (error) {
      // Thrown while encoding, before anything was written: the headers cannot be sent whole.
      if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    }
    await send(deadLetterHeaders(properties.headers, reason, commands, true));
    return { trimmed: true };
  }

  async close(): Promise<void> {
    await this.broker?.close();
  }
}

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

/** Acknowledges unless the channel closed meanwhile (the broker then redelivers: a repeat). */
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

/** What a consumer needs of its dead-letter queue. */
export interface DeadLetterSink {
  deadLetter(message: ConsumeMessage, reason: string): Promise<{ trimmed: boolean }>;
}

/**
 * Consumes one kind of command from its durable queue (manual ack, bounded prefetch). A command
 * is acknowledged only after its handler committed it (or found it a repeat); one the gateway can
 * never take (it cannot be read, or its handler refuses it) goes to the dead-letter queue with the
 * reason, then is acknowledged; one whose handling fails (storage down) is requeued after a
 * growing pause and dead-lettered after MAX_COMMAND_DELIVERIES: whatever it contains, it ends
 * acknowledged, dead-lettered or requeued a bounded number of times.
 *
 * Its own connection: no broker condition (a node down, the queue's node down, a channel closed by
 * the server, a cancelled consumer) ends the process; it declares the queue and consumes again by
 * itself, with back-off, and reports its state.
 */
export abstract class CommandConsumer<T>
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private broker: BrokerComponentLink | undefined;
  /** Failed deliveries per command, so that none is requeued without a bound. */
  readonly deliveries = new CommandDeliveries();

  constructor(
    protected readonly config: GatewayConfig,
    private readonly status: BrokerStatus,
    private readonly deadLetters: DeadLetterSink,
    /** `Top-up command`: how log lines name one. */
    private readonly label: string,
  ) {}

  protected abstract get logger(): Logger;
  protected abstract queues(): CommandQueues;
  /** The command's id and payload, or throws (anything thrown: it is dead-lettered). */
  protected abstract parse(value: unknown): { id: string; payload: T };
  /**
   * Takes the command; resolves with the answer for `replyTo`. Throws CommandRefused when it can
   * never be taken (dead-lettered), anything else when it should be tried again (requeued).
   */
  protected abstract handle(payload: T, id: string): Promise<unknown>;
  /** Counts an outcome (`dead-lettered`, `unavailable`) in the command's metric. */
  protected abstract count(outcome: 'dead-lettered' | 'unavailable'): void;

  /** Starts once every module is ready; connects whenever the broker can be reached. */
  onApplicationBootstrap(): void {
    const { amqp, serviceName } = this.config;
    const { component, commands } = this.queues();
    const broker = brokerComponent(
      component,
      { urls: amqp.urls, serviceName, status: this.status },
      {
        name: `${this.label.toLowerCase()}s`,
        confirm: false,
        setup: async (channel, connection, declare) => {
          await declare.queue(connection, commands, amqp.queueType);
          await channel.prefetch(PREFETCH);
          await channel.consume(commands, (message) => {
            if (message) {
              this.onCommand(channel, message).catch((error: unknown) =>
                this.retryLater(channel, message, `not handled (${errorText(error)})`),
              );
            } else {
              // basic.cancel from the server (queue deleted, its leader moved or its node lost).
              this.logger.warn(`Consumer of ${commands} cancelled by RabbitMQ; consuming again`);
              broker.channel.restart('consumer cancelled by RabbitMQ');
            }
          });
        },
      },
    );
    this.broker = broker;
  }

  /** Handles one command: it ends acknowledged, dead-lettered or requeued (bounded). */
  async onCommand(channel: Channel, message: ConsumeMessage): Promise<void> {
    let parsed: { id: string; payload: T };
    try {
      parsed = this.parse(decode(message.content));
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
      const answer = await this.handle(parsed.payload, parsed.id);
      this.reply(channel, message, answer);
      this.deliveries.settled(message);
      ack(channel, message);
    } catch (error) {
      if (error instanceof CommandRefused) return this.reject(channel, message, error.message);
      this.count('unavailable');
      this.retryLater(
        channel,
        message,
        `storing ${this.label.toLowerCase()} ${parsed.id.slice(0, 255)} failed (${errorText(error)})`,
      );
    }
  }

  /** Requeues after a growing pause, or dead-letters once the command has failed too often. */
  private retryLater(channel: Channel, message: ConsumeMessage, what: string): void {
    const decision = this.deliveries.failed(message);
    if (decision.action === 'requeue') {
      this.logger.error(
        `${this.label} ${what}; returning it to the queue in ${decision.delayMs} ms (delivery ${decision.delivery} of ${MAX_COMMAND_DELIVERIES})`,
      );
      requeueLater(channel, message, decision.delayMs);
      return;
    }
    this.logger.error(`${this.label} ${what} on delivery ${decision.delivery}; dead-lettering it`);
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
      this.count('dead-lettered');
      const how = trimmed ? ' (headers trimmed: too large for one AMQP header frame)' : '';
      this.logger.warn(`${this.label} ${id} dead-lettered${how}: ${reason.slice(0, 1000)}`);
      this.deliveries.settled(message);
      ack(channel, message);
    } catch (error) {
      // The dead-letter queue cannot take it now (broker trouble): counted like any failure,
      // at the longest pause once the command has used up its deliveries.
      const decision = exhausted ? null : this.deliveries.failed(message);
      const delayMs = decision?.action === 'requeue' ? decision.delayMs : REQUEUE_MAX_DELAY_MS;
      this.logger.error(
        `Could not dead-letter ${this.label.toLowerCase()} ${id} (${reason.slice(0, 300)}): ${errorText(error)}; returning it to the queue in ${delayMs} ms`,
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
