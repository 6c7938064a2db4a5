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

/** The names the gateway declares on the broker for an events exchange. */
export function brokerTopology(exchange: string) {
  return {
    exchange,
    alternateExchange: `${exchange}.unrouted`,
    unroutedQueue: `${exchange}.unrouted`,
  };
}

/** Hides credentials in an AMQP URL for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

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

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    super();
  }

  onModuleInit(): void {
    const { url, exchange } = this.config.amqp;
    const topology = brokerTopology(exchange);
    this.connection = amqp.connect([url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: 1,
      connectionOptions: { timeout: 5_000 },
    });
    this.connection.on('connect', () =>
      this.logger.log(`Connected to RabbitMQ at ${redactUrl(url)}`),
    );
    this.connection.on('disconnect', ({ err }) => {
      this.channelReady = false;
      this.logger.warn(`RabbitMQ connection lost: ${err?.message ?? 'closed'}`);
    });
    this.connection.on('connectFailed', ({ err }) =>
      this.logger.warn(`RabbitMQ unreachable at ${redactUrl(url)}: ${err?.message}`),
    );
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
  async publish(event: OutboxRecord): Promise<void> {
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
        headers: { provider: event.provider, 'schema-version': EVENT_SCHEMA_VERSION },
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
