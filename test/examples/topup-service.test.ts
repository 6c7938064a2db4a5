import amqplib from 'amqplib';
import type { INestMicroservice } from '@nestjs/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createTopupService,
  requestTopup,
  TopupBook,
  TopupOutcomesController,
} from '../../examples/topup-service/src/topup-service.js';
import { AMQP_URL, sleep } from '../support/broker.js';
import { uniqueRef } from '../support/ppob-sidopulsa.js';
import { createTopupBed, deleteQueues, type TopupBed, waitUntil } from '../support/topups.js';
import { assertClockVersion } from '../support/versions.js';

describe('example topup-service: command → gateway → sandbox → events → @nestjs/microservices consumer', () => {
  let t: TopupBed;
  let app: INestMicroservice;
  const queue = `test.topup-service.${randomBytes(5).toString('hex')}`;

  before(async () => {
    t = await createTopupBed('postgres');
    app = await createTopupService({
      amqpUrl: AMQP_URL,
      exchange: t.bed.exchange,
      commandsQueue: t.queue,
      queue,
      maxConnectionAttempts: 3,
      logger: process.env.TEST_LOG_LEVEL ? undefined : false,
    });
    await app.listen();
    await sleep(300);
  });
  after(async () => {
    await app?.close();
    await deleteQueues(queue);
    await t.teardown();
  });

  it('orders a PPOB top-up and ends with it succeeded, two versions applied, with the serial number', async () => {
    const reference = uniqueRef('E');
    await requestTopup(
      { amqpUrl: AMQP_URL, commandsQueue: t.queue },
      { provider: 'ppob', reference, product: 'S10', destination: '08123214214' },
    );
    const book = app.get(TopupBook);
    await waitUntil(() => book.get(reference)?.status === 'succeeded', 'the order succeeded');
    const state = book.get(reference)!;
    assertClockVersion(state.version, 0);
    assert.match(state.serialNumber ?? '', /^\d{16}$/);
    assert.equal(app.get(TopupOutcomesController).stats.applied, 2);
    assert.equal(t.ppob.orders().filter((o) => o.refid === reference).length, 1);
  });

  it('a redelivered pending (a lower version) after succeeded is acknowledged and not applied', async () => {
    const pending = t.bed.tap.messages.find((m) => m.fields.routingKey === 'topup.pending.ppob');
    assert.ok(pending, 'the gateway published the pending event');
    const reference = JSON.parse(pending.content.toString('utf8')).subject as string;
    const connection = await amqplib.connect(AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish(t.bed.exchange, pending.fields.routingKey, pending.content, {
        ...pending.properties,
        persistent: true,
      });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    const controller = app.get(TopupOutcomesController);
    await waitUntil(() => controller.stats.stale === 1, 'the stale event seen');
    assert.equal(app.get(TopupBook).get(reference)?.status, 'succeeded');
  });
});
