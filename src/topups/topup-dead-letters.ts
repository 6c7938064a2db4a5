import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type BrokerComponentLink, brokerComponent, confirmed } from '../messaging/broker-link.js';
import { BrokerStatus } from '../messaging/broker-status.js';

/** Header of a dead-lettered command: why the gateway could not take it. */
export const REJECTION_REASON_HEADER = 'x-rejection-reason';

/**
 * The dead-letter queue for commands the gateway cannot take (malformed, unknown provider, a
 * reference reused for another order). Declared by the gateway (QUEUE_TYPE); each message is the
 * command as received, with the reason in a header, published on a confirm channel so the
 * original is acknowledged only once its copy is safe. Reconnects on its own.
 */
@Injectable()
export class TopupDeadLetters implements OnModuleInit, OnApplicationShutdown {
  private broker: BrokerComponentLink | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly status: BrokerStatus,
  ) {}

  onModuleInit(): void {
    const { amqp, serviceName, topups } = this.config;
    this.broker = brokerComponent(
      'topup-dead-letters',
      { urls: amqp.urls, serviceName, status: this.status },
      {
        name: 'dead-letter',
        confirm: true,
        setup: (_channel, connection, declare) =>
          declare.queue(connection, topups.deadLetterQueue, amqp.queueType),
      },
    );
  }

  /** Resolves once the broker confirmed the copy; rejects otherwise (the caller then requeues). */
  async deadLetter(message: ConsumeMessage, reason: string): Promise<void> {
    const channel = this.broker?.channel.current as ConfirmChannel | null;
    if (!channel)
      throw new Error(`dead-letter channel is not open: ${this.broker?.channel.lastError}`);
    const { properties } = message;
    await confirmed(this.config.amqp.publishTimeoutMs, (callback) =>
      channel.sendToQueue(
        this.config.topups.deadLetterQueue,
        message.content,
        {
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
        },
        callback,
      ),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker?.close();
  }
}
