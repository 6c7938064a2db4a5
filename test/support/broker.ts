import amqplib, {
  type Channel,
  type ChannelModel,
  type ConsumeMessage,
  type GetMessage,
} from 'amqplib';
import { randomBytes } from 'node:crypto';

export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A unique events exchange name per test suite, so runs never see each other's events. */
export function uniqueExchange(): string {
  return `test.events.${randomBytes(5).toString('hex')}`;
}

/**
 * A queue bound to the gateway's exchange, collecting every message — what a downstream
 * consumer would see.
 */
export class EventTap {
  readonly messages: ConsumeMessage[] = [];
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    readonly queue: string,
  ) {}

  static async bind(exchange: string, bindingKey = '#'): Promise<EventTap> {
    const connection = await amqplib.connect(AMQP_URL);
    const channel = await connection.createChannel();
    // Declared with the gateway's own arguments, so a tap can be bound before the gateway starts.
    await channel.assertExchange(exchange, 'topic', {
      durable: true,
      alternateExchange: `${exchange}.unrouted`,
    });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, bindingKey);
    const tap = new EventTap(connection, channel, queue);
    await channel.consume(queue, (msg) => msg && tap.messages.push(msg), { noAck: true });
    return tap;
  }

  // Assertions read arbitrary nested event fields; the JSON Schema test pins their types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  bodies(): Array<Record<string, any>> {
    return this.messages.map((m) => JSON.parse(m.content.toString('utf8')));
  }

  /** Waits until at least `count` messages arrived, then a little longer to catch extras. */
  async waitFor(count: number, timeoutMs = 10_000, settleMs = 300): Promise<ConsumeMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `Expected ${count} messages, got ${this.messages.length} after ${timeoutMs} ms`,
        );
      }
      await sleep(25);
    }
    await sleep(settleMs);
    return this.messages;
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}

/** Removes the exchanges and holding queue the gateway declared for `exchange`. */
export async function deleteTopology(exchange: string): Promise<void> {
  const connection = await amqplib.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange);
    await channel.deleteExchange(`${exchange}.unrouted`);
    await channel.deleteQueue(`${exchange}.unrouted`);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** Messages currently waiting in a queue (e.g. the unrouted holding queue). */
export async function drainQueue(queue: string): Promise<GetMessage[]> {
  const connection = await amqplib.connect(AMQP_URL);
  const channel = await connection.createChannel();
  const messages: GetMessage[] = [];
  try {
    for (;;) {
      const msg = await channel.get(queue, { noAck: true });
      if (!msg) break;
      messages.push(msg);
    }
  } finally {
    await connection.close();
  }
  return messages;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
