import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { EventEmitter } from 'node:events';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import {
  EVENT_CONTENT_TYPE,
  EVENT_SCHEMA_VERSION,
  type EventTransition,
  type TransactionEvent,
} from '../events/transaction-event.js';
import { publishedBody, publishedPayload } from '../events/published-payload.js';
import {
  type BrokerComponentLink,
  brokerComponent,
  confirmed,
  type Declarations,
  ResilientChannel,
} from './broker-link.js';
import { BrokerStatus } from './broker-status.js';
import { brokerTopology } from './broker-topology.js';

/** One event as it goes to the exchange; the broker side knows nothing of where it is stored. */
export interface EventMessage {
  eventId: string;
  provider: string;
  eventType: string;
  routingKey: string;
  payload: string;
  createdAt: Date;
  /**
   * The event as built, when the row was just written from it (the publish after the commit):
   * the publisher renders its message from these (publishedBody) instead of parsing `payload`.
   */
  built?: { body: TransactionEvent['body']; transition: EventTransition };
}

/**
 * Publishes outbox events to the topic exchange on a confirm channel. The connection fails over
 * between the broker URLs and reconnects on its own; `connected` tells whether a publish can be
 * confirmed now, and the `ready` event fires each time the channel (re)opens with the exchanges
 * declared. The `<exchange>.unrouted` holding queue is declared and bound on a channel of its
 * own, in the background: publishing never waits for it (its node may be down).
 */
@Injectable()
export class EventPublisher extends EventEmitter implements OnModuleInit, OnApplicationShutdown {
  private broker: BrokerComponentLink | undefined;
  private holding: ResilientChannel | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly status: BrokerStatus,
  ) {
    super();
  }

  onModuleInit(): void {
    const { urls, exchange, queueType } = this.config.amqp;
    const topology = brokerTopology(exchange);
    const exchanges = async (connection: ChannelModel, declare: Declarations) => {
      await declare.exchange(connection, topology.alternateExchange, 'fanout', { durable: true });
      await declare.exchange(connection, exchange, 'topic', {
        durable: true,
        alternateExchange: topology.alternateExchange,
      });
    };
    const broker = brokerComponent(
      'publisher',
      { urls, serviceName: this.config.serviceName, status: this.status },
      {
        name: 'events',
        confirm: true,
        setup: (_channel, connection, declare) => exchanges(connection, declare),
      },
    );
    broker.channel.on('up', () => this.emit('ready'));
    // Best effort, never in the way of publishing: retried with back-off while it fails.
    this.holding = new ResilientChannel(broker.link, {
      name: 'holding queue',
      confirm: false,
      setup: async (channel, connection) => {
        await exchanges(connection, broker.declare);
        await broker.declare.queue(connection, topology.unroutedQueue, queueType);
        await channel.bindQueue(topology.unroutedQueue, topology.alternateExchange, '');
      },
    });
    this.broker = broker;
  }

  /** True when the confirm channel is open with the exchanges declared. */
  get connected(): boolean {
    return this.broker?.channel.isOpen ?? false;
  }

  /** Resolves once the broker confirmed the message; rejects on nack, timeout or close. */
  async publish(event: EventMessage, traceHeaders: Record<string, string> = {}): Promise<void> {
    const channel = this.broker?.channel.current as ConfirmChannel | null;
    if (!channel)
      throw new Error(`RabbitMQ channel is not open: ${this.broker?.channel.lastError}`);
    await confirmed(this.config.amqp.publishTimeoutMs, (callback) =>
      channel.publish(
        this.config.amqp.exchange,
        event.routingKey,
        // Personal data masked unless EVENTS_PERSONAL_DATA=publish (docs/security.md).
        Buffer.from(
          event.built
            ? publishedBody(
                event.built.body,
                event.built.transition,
                this.config.events?.personalData,
              )
            : publishedPayload(event.payload, this.config.events?.personalData),
        ),
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
        },
        callback,
      ),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.holding?.close();
    await this.broker?.close();
  }
}
