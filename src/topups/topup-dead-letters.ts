import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';

/** Header of a dead-lettered command: why the gateway could not take it. */
export const REJECTION_REASON_HEADER = 'x-rejection-reason';

/**
 * The dead-letter queue for commands the gateway cannot take (malformed, unknown provider, a
 * reference reused for another order). Declared by the gateway; each message is the command as
 * received, with the reason in a header, published on a confirm channel so the original is
 * acknowledged only once its copy is safe.
 */
@Injectable()
export class TopupDeadLetters implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TopupDeadLetters.name);
  private connection!: AmqpConnectionManager;
  private channel!: ChannelWrapper;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  onModuleInit(): void {
    const queue = this.config.topups.deadLetterQueue;
    this.connection = amqp.connect([this.config.amqp.url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: 1,
      connectionOptions: { timeout: 5_000 },
    });
    this.channel = this.connection.createChannel({
      name: 'topup-dead-letters',
      confirm: true,
      json: false,
      setup: async (channel: ConfirmChannel) => {
        await channel.assertQueue(queue, { durable: true });
      },
    });
    this.channel.on('error', (err: Error) =>
      this.logger.error(`Dead-letter channel error: ${err.message}`),
    );
  }

  /** Resolves once the broker confirmed the copy; rejects otherwise (the caller then requeues). */
  async deadLetter(message: ConsumeMessage, reason: string): Promise<void> {
    const { properties } = message;
    await this.channel.sendToQueue(this.config.topups.deadLetterQueue, message.content, {
      persistent: true,
      messageId: properties.messageId,
      correlationId: properties.correlationId,
      contentType: properties.contentType,
      type: properties.type,
      timestamp: Math.floor(Date.now() / 1000),
      appId: this.config.serviceName,
      headers: {
        ...(properties.headers ?? {}),
        [REJECTION_REASON_HEADER]: reason.slice(0, 2000),
        'x-original-queue': this.config.topups.commandsQueue,
      },
      timeout: this.config.amqp.publishTimeoutMs,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.channel?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}
