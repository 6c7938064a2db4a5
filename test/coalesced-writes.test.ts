/**
 * amqplib's frames leave in one socket write per round (issue 28): a burst of publishes on a
 * confirm channel reaches RabbitMQ whole and in order with a handful of writes instead of one
 * per message; an unknown connection shape is left alone.
 */
import amqplib, { type ChannelModel } from 'amqplib';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { coalesceWrites } from '../src/messaging/coalesced-writes.js';
import { AMQP_URL } from './support/broker.js';

const MESSAGES = 300;

/** Counts the socket-level writes (each one system call) of a connection. */
function countWrites(model: ChannelModel): () => number {
  const socket = (model as unknown as { connection: { stream: Socket } }).connection.stream;
  let writes = 0;
  const internals = socket as unknown as {
    _write: (...args: unknown[]) => void;
    _writev: (...args: unknown[]) => void;
  };
  const write = internals._write.bind(socket);
  const writev = internals._writev.bind(socket);
  internals._write = (...args) => {
    writes += 1;
    write(...args);
  };
  internals._writev = (...args) => {
    writes += 1;
    writev(...args);
  };
  return () => writes;
}

async function burst(coalesce: boolean): Promise<{ writes: number; received: string[] }> {
  const model = await amqplib.connect(AMQP_URL);
  try {
    if (coalesce) assert.equal(coalesceWrites(model), true);
    const writes = countWrites(model);
    const channel = await model.createConfirmChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const before = writes();
    for (let i = 0; i < MESSAGES; i += 1) channel.sendToQueue(queue, Buffer.from(`m${i}`));
    await channel.waitForConfirms();
    const used = writes() - before;
    const received: string[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) break;
      received.push(message.content.toString());
    }
    return { writes: used, received };
  } finally {
    await model.close();
  }
}

describe('coalesced AMQP writes', () => {
  it('a burst of publishes goes out in a few writes, every message confirmed and in order', async () => {
    const plain = await burst(false);
    const coalesced = await burst(true);
    const expected = Array.from({ length: MESSAGES }, (_, i) => `m${i}`);
    assert.deepEqual(plain.received, expected);
    assert.deepEqual(coalesced.received, expected);
    assert.ok(plain.writes >= MESSAGES, `amqplib alone: one write per message (${plain.writes})`);
    assert.ok(coalesced.writes <= 10, `coalesced: ${coalesced.writes} writes for ${MESSAGES}`);
  });

  it('applies once per connection, and leaves anything else alone', async () => {
    const model = await amqplib.connect(AMQP_URL);
    try {
      assert.equal(coalesceWrites(model), true);
      assert.equal(coalesceWrites(model), true, 'a second call wraps nothing again');
    } finally {
      await model.close();
    }
    assert.equal(coalesceWrites(undefined), false);
    assert.equal(coalesceWrites({}), false);
    assert.equal(coalesceWrites({ connection: { muxer: { out: {} } } }), false);
  });
});
