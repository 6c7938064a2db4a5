import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type BrokerComponentLink, brokerComponent, confirmed } from '../messaging/broker-link.js';
import { BrokerStatus } from '../messaging/broker-status.js';

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

  /**
   * Resolves once the broker confirmed the copy; rejects otherwise (the caller then requeues).
   * A copy whose headers do not fit in one AMQP header frame (amqplib encodes at most 64 KiB of
   * them and throws otherwise) is sent trimmed: see deadLetterHeaders.
   */
  async deadLetter(message: ConsumeMessage, reason: string): Promise<{ trimmed: boolean }> {
    const channel = this.broker?.channel.current as ConfirmChannel | null;
    if (!channel)
      throw new Error(`dead-letter channel is not open: ${this.broker?.channel.lastError}`);
    const { properties } = message;
    const send = (headers: Record<string, unknown>) =>
      confirmed(this.config.amqp.publishTimeoutMs, (callback) =>
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
            headers,
          },
          callback,
        ),
      );
    const whole = deadLetterHeaders(properties.headers, reason, this.config.topups.commandsQueue);
    try {
      await send(whole);
      return { trimmed: false };
    } catch (error) {
      // Thrown while encoding, before anything was written: the headers cannot be sent whole.
      if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    }
    await send(
      deadLetterHeaders(properties.headers, reason, this.config.topups.commandsQueue, true),
    );
    return { trimmed: true };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker?.close();
  }
}
