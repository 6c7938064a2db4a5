import 'reflect-metadata';
import {
  Controller,
  type DynamicModule,
  Injectable,
  Logger,
  type LogLevel,
  Module,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Ctx,
  EventPattern,
  type MicroserviceOptions,
  Payload,
  RmqContext,
} from '@nestjs/microservices';
import amqplib, { type Channel, type ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '../../order-service/src/cloud-event.deserializer.js';
import { rmqOptions } from '../../order-service/src/order-service.js';

/** What the service asks the gateway for: the `data` of a `topup.requested` command. */
export interface TopupRequest {
  provider: 'ppob' | 'sidopulsa';
  /** Your unique refid: the subject of every event of this order. */
  reference: string;
  product: string;
  destination: string;
}

/** The fields of a topup event's `data` this service uses. */
interface TopupEventData {
  status: string;
  providerStatus: string;
  transactionVersion: number;
  product: { serialNumber: string | null } | null;
}

export interface TopupState {
  status: string;
  version: number;
  serialNumber: string | null;
}

export interface TopupServiceOptions {
  amqpUrl: string;
  /** The gateway's events exchange (`EVENTS_EXCHANGE`). */
  exchange: string;
  /** The gateway's commands queue (`TOPUP_COMMANDS_QUEUE`). */
  commandsQueue: string;
  /** This service's own durable queue for the outcomes. */
  queue: string;
  maxConnectionAttempts?: number;
  logger?: LogLevel[] | false;
}

/**
 * Sends one top-up command to the gateway: a CloudEvent on the commands queue, persistent, on a
 * confirm channel (the gateway stores the order before it acknowledges the message).
 */
export async function requestTopup(
  options: Pick<TopupServiceOptions, 'amqpUrl' | 'commandsQueue'>,
  request: TopupRequest,
): Promise<string> {
  const id = randomUUID();
  const connection = await amqplib.connect(options.amqpUrl.split(',')[0].trim());
  try {
    const channel = await connection.createConfirmChannel();
    // Declared exactly as the gateway declares it (a quorum queue, QUEUE_TYPE=quorum), so
    // sending works before the gateway is up and neither side gets PRECONDITION_FAILED.
    await channel.assertQueue(options.commandsQueue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    const command = {
      specversion: '1.0',
      id,
      source: '/examples/topup-service',
      type: 'topup.requested',
      datacontenttype: 'application/json',
      data: request,
    };
    channel.sendToQueue(options.commandsQueue, Buffer.from(JSON.stringify(command)), {
      persistent: true,
      messageId: id,
      contentType: 'application/cloudevents+json',
    });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
  return id;
}

/**
 * Each order's latest state. Events may arrive out of order (parallel publishing, redelivery):
 * one is applied only when its transactionVersion is higher than the one held. A real service
 * keeps this in its orders table, updated with `WHERE version < $new`.
 */
@Injectable()
export class TopupBook {
  private readonly logger = new Logger(TopupBook.name);
  private readonly states = new Map<string, TopupState>();

  apply(reference: string, data: TopupEventData): 'applied' | 'stale' {
    const held = this.states.get(reference);
    if (held && held.version >= data.transactionVersion) return 'stale';
    this.states.set(reference, {
      status: data.status,
      version: data.transactionVersion,
      serialNumber: data.product?.serialNumber ?? null,
    });
    this.logger.log(`Top-up ${reference}: ${data.status} (v${data.transactionVersion})`);
    return 'applied';
  }

  get(reference: string): TopupState | undefined {
    return this.states.get(reference);
  }
}

/** Consumes the order outcomes (`topup.pending`, `topup.succeeded`, `topup.failed`), manual ack. */
@Controller()
export class TopupOutcomesController {
  readonly stats = { applied: 0, stale: 0 };

  constructor(private readonly book: TopupBook) {}

  @EventPattern<string>('topup.pending')
  onPending(@Payload() event: CloudEvent<TopupEventData>, @Ctx() context: RmqContext): void {
    this.handle(event, context);
  }

  @EventPattern<string>('topup.succeeded')
  onSucceeded(@Payload() event: CloudEvent<TopupEventData>, @Ctx() context: RmqContext): void {
    this.handle(event, context);
  }

  @EventPattern<string>('topup.failed')
  onFailed(@Payload() event: CloudEvent<TopupEventData>, @Ctx() context: RmqContext): void {
    this.handle(event, context);
  }

  private handle(event: CloudEvent<TopupEventData>, context: RmqContext): void {
    const channel = context.getChannelRef() as Channel;
    const message = context.getMessage() as ConsumeMessage;
    if (!event.subject || typeof event.data?.transactionVersion !== 'number') {
      channel.nack(message, false, false);
      return;
    }
    this.stats[this.book.apply(event.subject, event.data)] += 1;
    channel.ack(message);
  }
}

@Module({})
class TopupServiceModule {
  static register(): DynamicModule {
    return {
      module: TopupServiceModule,
      controllers: [TopupOutcomesController],
      providers: [TopupBook],
    };
  }
}

/** The outcome consumer: a durable queue bound to `topup.#` on the gateway's exchange. */
export async function createTopupService(options: TopupServiceOptions) {
  // The order-service example's transport options (durable queue, manual ack, CloudEvents),
  // bound to every topup event instead.
  return NestFactory.createMicroservice<MicroserviceOptions>(TopupServiceModule.register(), {
    ...rmqOptions({ ...options, bindingKey: 'topup.#' }),
    logger: options.logger ?? ['log', 'warn', 'error'],
  });
}
