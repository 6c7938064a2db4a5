import amqplib from 'amqplib';
import { AMQP_URL, sleep } from '../test/support/broker.js';
import type { Ledger } from './load.js';

/** A queue bound to every event of `exchange`, recording the first arrival time per event id. */
export class Consumer {
  readonly receivedAt = new Map<string, number>();
  deliveries = 0;
  private constructor(private readonly connection: amqplib.ChannelModel) {}

  static async bind(exchange: string): Promise<Consumer> {
    const connection = await amqplib.connect(AMQP_URL);
    const consumer = new Consumer(connection);
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', {
      durable: true,
      alternateExchange: `${exchange}.unrouted`,
    });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, '#');
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        consumer.deliveries += 1;
        const id = String(msg.properties.messageId);
        if (!consumer.receivedAt.has(id)) consumer.receivedAt.set(id, performance.now());
      },
      { noAck: true },
    );
    return consumer;
  }

  /** Waits until every acknowledged callback's event arrived (or a minute passed). */
  async drain(ledger: Ledger): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ([...ledger.acknowledged].some((id) => !this.receivedAt.has(id)) && Date.now() < deadline)
      await sleep(200);
    await sleep(1000);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
