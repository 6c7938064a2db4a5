import { Logger } from '@nestjs/common';
import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import type { Channel, ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { EventEmitter } from 'node:events';
import type { QueueType } from '../config/broker-settings.js';
import { queueOptions, redactUrl } from './broker-topology.js';
import { coalesceWrites } from './coalesced-writes.js';
import type { BrokerComponent, BrokerStatus } from './broker-status.js';

const RECONNECT_MIN_S = 1;
const RECONNECT_MAX_S = 30;

/** The AMQP reply code of a broker error (404, 406, …), if it has one. */
function replyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The broker's own words from an amqplib error ("PRECONDITION_FAILED - inequivalent arg …"). */
export function brokerMessage(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  return /with message "(.*)"$/s.exec(message)?.[1] ?? message;
}

/**
 * One component's connection to the broker: tries the URLs in turn, with a pause of 1 s that
 * doubles up to 30 s while none answers; logged when the state changes, not on every attempt.
 */
export class BrokerConnection {
  readonly manager: AmqpConnectionManager;
  readonly logger: Logger;
  private brokerDown = false;
  private failedAttempts = 0;

  constructor(
    readonly component: BrokerComponent,
    urls: string[],
    serviceName: string,
  ) {
    this.logger = new Logger(`Broker:${component}`);
    const where = redactUrl(urls.join(','));
    this.manager = amqp.connect(urls, {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: RECONNECT_MIN_S,
      // Shown by `rabbitmqctl list_connections` and the management UI.
      connectionOptions: {
        timeout: 5_000,
        clientProperties: { connection_name: `${serviceName} ${component}` },
      },
    });
    this.manager.on('connect', ({ connection, url }) => {
      this.manager.reconnectTimeInSeconds = RECONNECT_MIN_S;
      coalesceWrites(connection);
      const after = this.failedAttempts > 0 ? ` after ${this.failedAttempts} failed attempts` : '';
      this.logger.log(`Connected to RabbitMQ at ${redactUrl(String(url))}${after}`);
      this.failedAttempts = 0;
      this.brokerDown = false;
    });
    this.manager.on('disconnect', ({ err }) => {
      if (!this.brokerDown) {
        this.logger.warn(
          `RabbitMQ connection lost: ${err?.message ?? 'closed'}; reconnecting (every ${RECONNECT_MIN_S} s up to ${RECONNECT_MAX_S} s); callbacks are still stored, events wait`,
        );
      }
      this.brokerDown = true;
    });
    this.manager.on('connectFailed', ({ err }) => {
      this.failedAttempts += 1;
      if (!this.brokerDown) {
        this.logger.warn(
          `RabbitMQ unreachable at ${where}: ${err?.message}; retrying every ${RECONNECT_MIN_S} s up to ${RECONNECT_MAX_S} s, logged again once connected; callbacks are still stored, events wait`,
        );
      } else {
        this.logger.debug(
          `RabbitMQ still unreachable (attempt ${this.failedAttempts}): ${err?.message}`,
        );
      }
      this.brokerDown = true;
      // Read right after this handler: 1 s before the 2nd attempt, then doubling up to 30 s.
      if (this.failedAttempts > 1) {
        this.manager.reconnectTimeInSeconds = Math.min(
          RECONNECT_MAX_S,
          this.manager.reconnectTimeInSeconds * 2,
        );
      }
    });
  }

  /** The open connection, if any. */
  get current(): ChannelModel | undefined {
    return this.manager.connection;
  }

  async close(): Promise<void> {
    await this.manager.close().catch(() => undefined);
  }
}

export interface ResilientChannelOptions {
  /** For logs: what the channel is for. */
  name: string;
  confirm: boolean;
  /** Runs on every new channel before it is used; a throw (or a server close) retries later. */
  setup: (channel: Channel, connection: ChannelModel) => Promise<void>;
}

/**
 * A channel that comes back by itself: reopened (set up again) whenever the connection
 * reconnects, and when the server closes it while the connection stays up (a refused
 * declaration, a queue whose node is down, a cancelled consumer): 1 s, doubling up to 30 s.
 * amqp-connection-manager's own channel wrapper waits for the next reconnect of the whole
 * connection in that case, which may never come. Emits `up` (with the channel) and `down`.
 */
export class ResilientChannel extends EventEmitter {
  private channel: Channel | null = null;
  private opening = false;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why the channel is not open (the last error), null when it is. */
  lastError: string | null = 'not connected yet';

  constructor(
    private readonly link: BrokerConnection,
    private readonly options: ResilientChannelOptions,
  ) {
    super();
    link.manager.on('connect', () => void this.open());
    link.manager.on('disconnect', ({ err }) => this.lost(err?.message ?? 'connection closed'));
    if (link.current) void this.open();
  }

  /** The channel, open and set up, or null. */
  get current(): Channel | null {
    return this.channel;
  }

  get isOpen(): boolean {
    return this.channel !== null;
  }

  /** Closes this channel now and opens it again after the usual pause (e.g. after a cancel). */
  restart(reason: string): void {
    const channel = this.channel;
    if (!channel) return;
    this.lost(reason);
    this.scheduleReopen();
    void channel.close().catch(() => undefined);
  }

  private lost(reason: string): void {
    this.lastError = reason;
    if (this.channel) {
      this.channel = null;
      this.emit('down', reason);
    }
  }

  private async open(): Promise<void> {
    const connection = this.link.current;
    if (this.closed || this.opening || this.channel || !connection) return;
    this.opening = true;
    let channel: Channel | ConfirmChannel | undefined;
    let closedEarly = false;
    try {
      channel = this.options.confirm
        ? await connection.createConfirmChannel()
        : await connection.createChannel();
      const opened = channel;
      // Without a listener, a channel the server closes would end the process.
      opened.on('error', (err: Error) => (this.lastError = brokerMessage(err)));
      opened.on('close', () => {
        closedEarly = true;
        if (this.channel !== opened) return;
        this.lost(this.lastError ?? 'channel closed');
        this.link.logger.warn(
          `RabbitMQ ${this.options.name} channel closed: ${this.lastError}; reopening`,
        );
        this.scheduleReopen();
      });
      await this.options.setup(opened, connection);
      if (closedEarly) throw new Error(this.lastError ?? 'channel closed during set-up');
      if (this.closed) {
        await opened.close().catch(() => undefined);
        return;
      }
      this.channel = opened;
      this.failures = 0;
      this.lastError = null;
      this.emit('up', opened);
    } catch (error) {
      this.lastError = brokerMessage(error);
      this.failures += 1;
      const log = this.failures === 1 ? 'warn' : 'debug';
      this.link.logger[log](
        `RabbitMQ ${this.options.name} channel not ready (attempt ${this.failures}): ${this.lastError}; retrying`,
      );
      await channel?.close().catch(() => undefined);
      this.scheduleReopen();
    } finally {
      this.opening = false;
    }
  }

  private scheduleReopen(): void {
    if (this.closed || this.retryTimer) return;
    // 1 s after a close or a first failure, then doubling up to 30 s while it keeps failing.
    const delayS = Math.min(RECONNECT_MAX_S, RECONNECT_MIN_S * 2 ** Math.max(0, this.failures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.open();
    }, delayS * 1000);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const channel = this.channel;
    this.channel = null;
    await channel?.close().catch(() => undefined);
  }
}

/** Runs `work` on a channel of its own, so a refusal (which closes a channel) harms no other. */
async function onOwnChannel<T>(
  connection: ChannelModel,
  work: (channel: Channel) => Promise<T>,
): Promise<T> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Declares the gateway's names and reports the outcome to BrokerStatus and the log. */
export class Declarations {
  constructor(
    private readonly status: BrokerStatus,
    private readonly logger: Logger,
  ) {}

  /**
   * Declares a queue of the configured type. A queue that already exists with another type or
   * arguments (PRECONDITION_FAILED) is checked passively, reported, and used as it is: never
   * fought in a loop. Throws when the queue cannot be used now (e.g. its node is down).
   */
  async queue(connection: ChannelModel, queue: string, type: QueueType): Promise<void> {
    await this.declare('queue', queue, connection, (channel) =>
      channel.assertQueue(queue, queueOptions(type)),
    );
  }

  /** Declares an exchange; an existing one with other arguments is reported and used as it is. */
  async exchange(
    connection: ChannelModel,
    exchange: string,
    type: 'topic' | 'fanout',
    options: Options.AssertExchange,
  ): Promise<void> {
    await this.declare('exchange', exchange, connection, (channel) =>
      channel.assertExchange(exchange, type, options),
    );
  }

  private async declare(
    kind: 'queue' | 'exchange',
    name: string,
    connection: ChannelModel,
    assert: (channel: Channel) => Promise<unknown>,
  ): Promise<void> {
    try {
      await onOwnChannel(connection, assert);
    } catch (error) {
      const detail = brokerMessage(error);
      if (replyCode(error) !== 406) {
        if (this.status.setDeclaration(name, kind, 'unavailable', detail)) {
          this.logger.warn(`RabbitMQ ${kind} '${name}' cannot be declared now: ${detail}`);
        }
        throw error;
      }
      // It exists, declared otherwise: check it passively and carry on with it.
      await onOwnChannel(connection, (channel) =>
        kind === 'queue' ? channel.checkQueue(name) : channel.checkExchange(name),
      );
      if (this.status.setDeclaration(name, kind, 'mismatch', detail)) {
        this.logger.error(
          `RabbitMQ ${kind} '${name}' already exists with other arguments than the gateway declares (${detail}); using it as it is. See docs/operations.md "Queue types" to migrate it`,
        );
      }
      return;
    }
    if (this.status.setDeclaration(name, kind, 'declared')) {
      this.logger.debug(`RabbitMQ ${kind} '${name}' declared`);
    }
  }
}

/** A publish waiting for its confirm: settled by the broker, or expired at `deadline`. */
interface AwaitingConfirm {
  deadline: number;
  expire(): void;
}

/**
 * The confirm deadlines of one timeout, without a timer per publish (issue 28: a `setTimeout`
 * and a `clearTimeout` per event were 4% of the gateway's allocations). Every entry has the same
 * timeout, so insertion order is deadline order: one timer, armed for the oldest entry, expires
 * what is due and re-arms for the next.
 */
class ConfirmDeadlines {
  private readonly waiting = new Set<AwaitingConfirm>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly timeoutMs: number) {}

  add(entry: AwaitingConfirm): void {
    this.waiting.add(entry);
    this.timer ??= setTimeout(() => this.expireDue(), this.timeoutMs);
  }

  delete(entry: AwaitingConfirm): void {
    this.waiting.delete(entry);
    // Nothing left to expire: no timer holds the process open.
    if (this.waiting.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private expireDue(): void {
    this.timer = null;
    const now = Date.now();
    for (const entry of this.waiting) {
      if (entry.deadline > now) {
        this.timer = setTimeout(() => this.expireDue(), entry.deadline - now);
        return;
      }
      this.waiting.delete(entry);
      entry.expire();
    }
  }
}

const deadlinesByTimeout = new Map<number, ConfirmDeadlines>();

/**
 * One publish on a confirm channel: `send` passes the callback to `publish`/`sendToQueue`.
 * Resolves on the broker's ack; rejects on a nack, a closed channel or after `timeoutMs`.
 */
export function confirmed(
  timeoutMs: number,
  send: (callback: (error: unknown) => void) => void,
): Promise<void> {
  let deadlines = deadlinesByTimeout.get(timeoutMs);
  if (!deadlines) {
    deadlines = new ConfirmDeadlines(timeoutMs);
    deadlinesByTimeout.set(timeoutMs, deadlines);
  }
  const own = deadlines;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const entry: AwaitingConfirm = {
      deadline: Date.now() + timeoutMs,
      expire: () => {
        if (settled) return;
        settled = true;
        reject(new Error(`not confirmed by RabbitMQ within ${timeoutMs} ms`));
      },
    };
    own.add(entry);
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      own.delete(entry);
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve();
    };
    try {
      send(settle);
    } catch (error) {
      settle(error);
    }
  });
}

/** A component's connection, its main channel and its declarations, reported to BrokerStatus. */
export interface BrokerComponentLink {
  link: BrokerConnection;
  channel: ResilientChannel;
  declare: Declarations;
  close(): Promise<void>;
}

/**
 * Opens `component`'s own connection (failing over between `urls`) and its main channel; the
 * component counts as connected in BrokerStatus while that channel is open and set up.
 */
export function brokerComponent(
  component: BrokerComponent,
  broker: { urls: string[]; serviceName: string; status: BrokerStatus },
  channel: Omit<ResilientChannelOptions, 'setup'> & {
    setup: (channel: Channel, connection: ChannelModel, declare: Declarations) => Promise<void>;
  },
): BrokerComponentLink {
  const { status } = broker;
  const link = new BrokerConnection(component, broker.urls, broker.serviceName);
  const declare = new Declarations(status, link.logger);
  status.setComponent(component, false, 'not connected yet');
  const main = new ResilientChannel(link, {
    ...channel,
    setup: (opened, connection) => channel.setup(opened, connection, declare),
  });
  main.on('up', () => status.setComponent(component, true));
  main.on('down', (reason: string) => status.setComponent(component, false, reason));
  return {
    link,
    channel: main,
    declare,
    async close() {
      await main.close();
      await link.close();
    },
  };
}
