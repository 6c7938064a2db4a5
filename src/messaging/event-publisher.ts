import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import { EventEmitter } from 'node:events';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { EVENT_CONTENT_TYPE, EVENT_SCHEMA_VERSION } from '../events/transaction-event.js';
import type { OutboxRecord } from '../persistence/callback-store.js';
import { brokerTopology, redactUrl } from './broker-topology.js';

const RECONNECT_MIN_S = 1;
const RECONNECT_MAX_S = 30;

/**
 * Publishes outbox events to the topic exchange on a confirm channel. The connection manager
 * reconnects on its own; `connected` tells whether a publish can be confirmed now, and the
 * `ready` event fires each time the channel (re)opens with the topology declared.
 */
@Injectable()
export class EventPublisher extends EventEmitter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventPublisher.name);
  private connection!: AmqpConnectionManager;
  private channel!: ChannelWrapper;
  private channelReady = false;
  private brokerDown = false;
  private failedAttempts = 0;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    super();
  }

  onModuleInit(): void {
    const { url, exchange } = this.config.amqp;
    const topology = brokerTopology(exchange);
    this.connection = amqp.connect([url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: RECONNECT_MIN_S,
      connectionOptions: { timeout: 5_000 },
    });
    // Back-off 1 s → 30 s while the broker stays away; logged when the state changes, not per try.
    this.connection.on('connect', () => {
      this.connection.reconnectTimeInSeconds = RECONNECT_MIN_S;
      const after = this.failedAttempts > 0 ? ` after ${this.failedAttempts} failed attempts` : '';
      this.logger.log(`Connected to RabbitMQ at ${redactUrl(url)}${after}`);
      this.failedAttempts = 0;
      this.brokerDown = false;
    });
    this.connection.on('disconnect', ({ err }) => {
      this.channelReady = false;
      if (!this.brokerDown) {
        this.logger.warn(
          `RabbitMQ connection lost: ${err?.message ?? 'closed'}; reconnecting (every ${RECONNECT_MIN_S} s up to ${RECONNECT_MAX_S} s); callbacks are still stored, events wait`,
        );
      }
      this.brokerDown = true;
    });
    this.connection.on('connectFailed', ({ err }) => {
      this.failedAttempts += 1;
      if (!this.brokerDown) {
        this.logger.warn(
          `RabbitMQ unreachable at ${redactUrl(url)}: ${err?.message}; retrying every ${RECONNECT_MIN_S} s up to ${RECONNECT_MAX_S} s, logged again once connected; callbacks are still stored, events wait`,
        );
      } else {
        this.logger.debug(
          `RabbitMQ still unreachable (attempt ${this.failedAttempts}): ${err?.message}`,
        );
      }
      this.brokerDown = true;
      // Read right after this handler: 1 s before the 2nd attempt, then doubling up to 30 s.
      if (this.failedAttempts > 1) {
        this.connection.reconnectTimeInSeconds = Math.min(
          RECONNECT_MAX_S,
          this.connection.reconnectTimeInSeconds * 2,
        );
      }
    });
    this.channel = this.connection.createChannel({
      name: 'events',
      confirm: true,
      json: false,
      setup: async (channel: ConfirmChannel) => {
        await channel.assertExchange(topology.alternateExchange, 'fanout', { durable: true });
        await channel.assertQueue(topology.unroutedQueue, { durable: true });
        await channel.bindQueue(topology.unroutedQueue, topology.alternateExchange, '');
        await channel.assertExchange(exchange, 'topic', {
          durable: true,
          alternateExchange: topology.alternateExchange,
        });
      },
    });
    this.channel.on('connect', () => {
      this.channelReady = true;
      this.emit('ready');
    });
    this.channel.on('close', () => (this.channelReady = false));
    this.channel.on('error', (err: Error) => {
      this.channelReady = false;
      this.logger.error(`RabbitMQ channel error: ${err.message}`);
    });
  }

  /** True when the channel is open with the topology declared. */
  get connected(): boolean {
    return this.channelReady && this.connection.isConnected();
  }

  /** Resolves once the broker confirmed the message; rejects on nack, timeout or close. */
  async publish(event: OutboxRecord, traceHeaders: Record<string, string> = {}): Promise<void> {
    await this.channel.publish(
      this.config.amqp.exchange,
      event.routingKey,
      Buffer.from(event.payload),
      {
        persistent: true,
        messageId: event.eventId,
        type: event.eventType,
        contentType: EVENT_CONTENT_TYPE,
        contentEncoding: 'utf-8',
        timestamp: Math.floor(event.createdAt.getTime() / 1000),
        appId: this.config.serviceName,
        // traceparent / tracestate of the publish span: consumers continue the trace.
        headers: {
          provider: event.provider,
          'schema-version': EVENT_SCHEMA_VERSION,
          ...traceHeaders,
        },
        timeout: this.config.amqp.publishTimeoutMs,
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.channelReady = false;
    await this.channel?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}
