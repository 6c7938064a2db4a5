/**
 * Poison top-up commands: every message taken from the commands queue ends acknowledged,
 * dead-lettered (trimmed when its headers cannot be copied whole) or requeued a bounded number of
 * times, whatever it contains; none stops intake. Unit tests of the consumer's decisions with a
 * fake channel, then a real gateway fed every poison kind followed by a valid command.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqplib, { type ConsumeMessage } from 'amqplib';
import { queueOptions } from '../../src/messaging/broker-topology.js';
import { CommandDeliveries, MAX_COMMAND_DELIVERIES } from '../../src/messaging/command-deliveries.js';
import { TopupCommandConsumer } from '../../src/topups/topup-command-consumer.js';
import { describeValue, parseTopupCommand } from '../../src/topups/topup-commands.js';
import {
  deadLetterHeaders,
  REJECTION_REASON_HEADER,
  TRIMMED_HEADER,
} from '../../src/topups/topup-dead-letters.js';
import { AMQP_URL, drainQueue, sleep } from '../support/broker.js';
import { uniqueRef } from '../support/ppob-sidopulsa.js';
import {
  createTopupBed,
  queueDepth,
  type TopupBed,
  topupCommand,
  waitUntil,
} from '../support/topups.js';

const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function message(content: string, headers: Record<string, unknown> = {}): ConsumeMessage {
  return {
    content: Buffer.from(content),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' },
    properties: { headers, messageId: 'm-1' },
  } as unknown as ConsumeMessage;
}

/** A consumer whose channel, storage and dead-letter queue are fakes that record what happens. */
function fakeConsumer(options: {
  submit?: () => Promise<never>;
  deadLetter?: () => Promise<never>;
}) {
  const settled: string[] = [];
  const deadLettered: string[] = [];
  const channel = {
    ack: () => settled.push('ack'),
    nack: () => settled.push('requeue'),
    sendToQueue: () => true,
  };
  const counter = { inc: () => undefined };
  const consumer = new TopupCommandConsumer(
    {} as never,
    {} as never,
    { submit: options.submit ?? (() => Promise.reject(new Error('unused'))) } as never,
    {
      deadLetter: async (_m: ConsumeMessage, reason: string) => {
        if (options.deadLetter) await options.deadLetter();
        deadLettered.push(reason);
        return { trimmed: false };
      },
    } as never,
    { commands: counter } as never,
  );
  return { consumer, channel, settled, deadLettered };
}

describe('poison top-up commands: the consumer decides (fakes)', () => {
  it('describes any value without serializing it', () => {
    assert.equal(describeValue(JSON.parse(deepArray(20_000))), 'an array');
    assert.equal(describeValue({ a: 1 }), 'an object');
    assert.equal(describeValue('x'.repeat(100)), `"${'x'.repeat(64)}"…`);
    assert.throws(
      () => parseTopupCommand({ ...topupCommand({}), type: JSON.parse(deepArray(20_000)) }),
      /type must be "topup.requested" \(got an array\)/,
    );
  });

  it('dead-letters a command whose parsing throws anything, never rethrows', async () => {
    const f = fakeConsumer({});
    // A body that makes the data validator itself overflow the stack is still a command's property.
    const deepData = `{"specversion":"1.0","id":"x","source":"/s","type":"topup.requested","data":{"product":${deepArray(20_000)}}}`;
    await f.consumer.onCommand(f.channel as never, message(deepData));
    await f.consumer.onCommand(f.channel as never, message('\u0000\uffff'));
    assert.deepEqual(f.settled, ['ack', 'ack']);
    assert.equal(f.deadLettered.length, 2);
  });

  it('requeues a command whose handling fails with a growing pause, then dead-letters it', async () => {
    const f = fakeConsumer({ submit: () => Promise.reject(new Error('connection refused')) });
    const valid = JSON.stringify(
      topupCommand({ provider: 'ppob', reference: 'R1', product: 'S10', destination: '0812345' }),
    );
    const deliveries = (f.consumer as unknown as { deliveries: CommandDeliveries }).deliveries;
    const delays: number[] = [];
    for (let i = 1; i < MAX_COMMAND_DELIVERIES; i += 1) {
      const decision = new CommandDeliveries().failed(
        message(valid, { 'x-delivery-count': i - 1 }),
      );
      assert.equal(decision.action, 'requeue');
      if (decision.action === 'requeue') delays.push(decision.delayMs);
    }
    assert.deepEqual(delays.slice(0, 4), [1000, 2000, 4000, 8000]);
    assert.equal(Math.max(...delays), 60_000);
    // The broker's count (quorum queues) reaching the limit: dead-lettered with the last error.
    await f.consumer.onCommand(
      f.channel as never,
      message(valid, { 'x-delivery-count': MAX_COMMAND_DELIVERIES - 1 }),
    );
    await sleep(10);
    assert.deepEqual(f.settled, ['ack']);
    assert.match(
      f.deadLettered[0],
      /failed on 10 deliveries, the last: storing .* connection refused/,
    );
    assert.equal(deliveries.remembered, 0, 'a settled command is forgotten');
  });

  it('counts deliveries itself where the broker does not (classic queues)', () => {
    const deliveries = new CommandDeliveries(3, 1, 1);
    const m = message('same body');
    assert.equal(deliveries.failed(m).action, 'requeue');
    assert.equal(deliveries.failed(m).action, 'requeue');
    assert.equal(deliveries.failed(m).action, 'dead-letter');
    assert.equal(deliveries.remembered, 0);
  });

  it('trims a dead-letter copy whose headers cannot be encoded whole', () => {
    const headers = {
      big: 'h'.repeat(64_000),
      small: 'kept',
      nested: { a: 1 },
      ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`n${i}`, 'ű'.repeat(300)])),
    };
    const trimmed = deadLetterHeaders(headers, 'r'.repeat(5000), 'q', true);
    assert.equal(trimmed.small, 'kept');
    assert.equal((trimmed.big as string).length, 256);
    assert.equal(trimmed.nested, undefined);
    assert.equal(String(trimmed[REJECTION_REASON_HEADER]).length, 2000);
    assert.match(String(trimmed[TRIMMED_HEADER]), /71 dropped, 31 cut/);
    const bytes = Object.entries(trimmed).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)) + 6,
      0,
    );
    assert.ok(bytes < 60_000, `${bytes} bytes`);
  });

  it('requeues (bounded pace) when the dead-letter queue cannot take the command', async () => {
    const f = fakeConsumer({ deadLetter: () => Promise.reject(new Error('channel closed')) });
    await f.consumer.onCommand(f.channel as never, message('not json'));
    assert.deepEqual(f.settled, [], 'requeued after a pause, not acknowledged');
  });
});

describe('poison top-up commands against a running gateway (PostgreSQL, RabbitMQ)', () => {
  let t: TopupBed;
  before(async () => (t = await createTopupBed('postgres')));
  after(() => t.teardown());

  it('dead-letters every poison kind (trimmed where needed) and still places the valid command after them', async () => {
    const reference = uniqueRef('V');
    const poison: Array<{
      body: string | Buffer;
      headers?: Record<string, unknown>;
      what: string;
    }> = [
      ...Array.from({ length: 21 }, (_, i) => ({
        what: `deep type ${i}`,
        body: `{"specversion":"1.0","id":"deep-${i}","source":"/s","type":${deepArray(20_000)},"data":{}}`,
      })),
      {
        what: 'deep data',
        body: `{"specversion":"1.0","id":"dd","source":"/s","type":"topup.requested","data":{"product":${deepArray(20_000)}}}`,
      },
      {
        what: 'large header',
        body: JSON.stringify(topupCommand({ provider: 'ppob', reference: 'x', product: 'S10' })),
        headers: { 'x-large': 'H'.repeat(64_000) },
      },
      {
        // Fits amqplib's 64 KiB header buffer alone, not with the reason beside it.
        what: 'huge header',
        body: JSON.stringify(topupCommand({ provider: 'ppob', reference: 'x', product: 'S10' })),
        headers: { 'x-huge': 'H'.repeat(65_450) },
      },
      { what: 'binary', body: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]) },
      { what: 'empty', body: '' },
      { what: 'json null', body: 'null' },
      { what: 'huge id', body: JSON.stringify({ ...topupCommand({}), id: 'i'.repeat(100_000) }) },
    ];
    const connection = await amqplib.connect(AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue(t.queue, queueOptions('quorum'));
      const valid = topupCommand({
        provider: 'ppob',
        reference,
        product: 'S10',
        destination: '0812321421',
      });
      for (const p of [...poison, { what: 'valid', body: JSON.stringify(valid), headers: {} }]) {
        channel.sendToQueue(t.queue, Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body), {
          persistent: true,
          headers: p.headers,
          messageId: p.what,
        });
      }
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }

    const dlq = `${t.queue}.dead-letter`;
    let dead: Awaited<ReturnType<typeof drainQueue>> = [];
    await waitUntil(
      async () => {
        dead = dead.concat(await drainQueue(dlq));
        return dead.length >= poison.length;
      },
      `${poison.length} dead-lettered commands`,
      30_000,
    );
    await waitUntil(
      async () =>
        (
          await t.bed.db.query<{ placement: string }>(
            `SELECT placement FROM topup_orders WHERE reference = $1`,
            [reference],
          )
        )[0]?.placement === 'placed',
      'the valid command placed',
      30_000,
    );
    await sleep(300);
    dead = dead.concat(await drainQueue(dlq));
    assert.equal(dead.length, poison.length, 'each poison command dead-lettered once');
    assert.equal(await queueDepth(t.queue), 0, 'nothing left unacknowledged or circling');
    const byId = new Map(dead.map((m) => [String(m.properties.messageId), m]));
    const huge = byId.get('huge header')!;
    assert.match(String(huge.properties.headers?.[TRIMMED_HEADER]), /cut to 256/);
    assert.equal(String(huge.properties.headers?.['x-huge']).length, 256);
    assert.match(String(huge.properties.headers?.[REJECTION_REASON_HEADER]), /destination/);
    assert.match(
      String(byId.get('deep type 0')!.properties.headers?.[REJECTION_REASON_HEADER]),
      /type must be "topup.requested" \(got an array\)/,
    );
    assert.match(
      String(byId.get('deep data')!.properties.headers?.[REJECTION_REASON_HEADER]),
      /invalid data|could not be read/,
    );
    assert.equal(byId.get('binary')!.content.length, 5, 'kept as received');
  });
});
