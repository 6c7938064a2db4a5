import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import type { INestMicroservice } from '@nestjs/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { createOrderService } from '../../examples/order-service/src/order-service.js';
import { OrdersController } from '../../examples/order-service/src/orders.controller.js';
import { OrdersService } from '../../examples/order-service/src/orders.service.js';
import { AMQP_URL, sleep } from '../support/broker.js';
import { send, signedCallback, type SignedCallback } from '../support/callbacks.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback, mcpaymentSignature } from '../support/mcpayment.js';
import { assertClockVersion } from '../support/versions.js';

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A genuine, signed MCPayment callback in `status` (e.g. EXPIRED). */
function mcpaymentIn(status: string, normalized: Parameters<typeof eventIdFor>[3]): SignedCallback {
  const body = mcpaymentCallback({ transaction_status: status });
  const signature = mcpaymentSignature(body);
  return {
    provider: 'mcpayment',
    method: 'POST',
    path: '/callbacks/mcpayment',
    headers: { 'content-type': 'application/json', 'mcp-signature': signature },
    body: JSON.stringify(body),
    reference: body.order_id,
    eventId: eventIdFor('mcpayment', 'default', body.transaction_id, normalized),
    sensitive: [signature],
  };
}

/** `queue`'s ready messages (not counting unacknowledged ones) and consumers. */
async function queueState(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const connection = await amqplib.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    const { messageCount, consumerCount } = await channel.checkQueue(queue);
    return { messageCount, consumerCount };
  } finally {
    await connection.close();
  }
}
const readyMessages = async (queue: string) => (await queueState(queue)).messageCount;

describe('example order-service: gateway → RabbitMQ → @nestjs/microservices RMQ consumer', () => {
  let bed: TestBed;
  let app: INestMicroservice | undefined;
  const queue = `test.order-service.${randomBytes(5).toString('hex')}`;

  const start = async () => {
    app = await createOrderService({
      amqpUrl: AMQP_URL,
      exchange: bed.exchange,
      queue,
      logger: process.env.TEST_LOG_LEVEL ? undefined : false,
      maxConnectionAttempts: 3,
    });
    await app.listen();
    // listen() resolves once the queue is declared and bound, before RabbitMQ confirms the
    // consumer (ServerRMQ does not await basic.consume): wait for it, so a stop cannot race it.
    await waitUntil(async () => (await queueState(queue)).consumerCount === 1, 'the consumer');
    return app;
  };
  const stop = async () => {
    await app?.close();
    app = undefined;
  };
  const controller = () => app!.get(OrdersController);
  const orders = () => app!.get(OrdersService);
  const tapped = (callback: SignedCallback) => {
    const message = bed.tap.messages.find((m) => m.properties.messageId === callback.eventId);
    assert.ok(message, `the gateway published ${callback.provider} ${callback.reference}`);
    return { message, body: JSON.parse(message.content.toString('utf8')) };
  };

  before(async () => {
    bed = await createTestBed('postgres');
  });
  after(async () => {
    await stop().catch(() => undefined);
    const connection = await amqplib.connect(AMQP_URL);
    await (await connection.createChannel()).deleteQueue(queue).catch(() => undefined);
    await connection.close();
    await bed.teardown();
  });

  const nicepay = signedCallback('nicepay');
  const mcpaymentPaid = signedCallback('mcpayment');
  const mcpaymentExpired = mcpaymentIn('EXPIRED', 'expired');
  const ppob = signedCallback('ppob');

  it('its durable queue receives only payment.succeeded.* events, also while it is down', async () => {
    // The service declares its queue and binding, then stops (a deploy): events keep arriving.
    await start();
    await stop();

    for (const callback of [nicepay, mcpaymentPaid, mcpaymentExpired, ppob]) {
      const res = await send(bed.gateway.url, callback);
      assert.equal(res.status, 200, `${callback.provider} ${callback.reference} accepted`);
    }
    await bed.tap.waitFor(4);
    assert.deepEqual(bed.tap.messages.map((m) => m.fields.routingKey).sort(), [
      'payment.expired.mcpayment',
      'payment.succeeded.mcpayment',
      'payment.succeeded.nicepay',
      'topup.succeeded.ppob',
    ]);
    assert.equal(
      await readyMessages(queue),
      2,
      'only the two payment.succeeded events were routed',
    );
  });

  it('marks each paid order once from the queued events, by subject', async () => {
    await start();
    await waitUntil(() => controller().stats.handled === 2, 'both succeeded events handled');
    await sleep(300);

    assert.deepEqual(controller().stats, {
      handled: 2,
      duplicates: 0,
      failed: 0,
      rejected: 0,
      stale: 0,
    });
    for (const callback of [nicepay, mcpaymentPaid]) {
      const { body } = tapped(callback);
      assert.deepEqual(orders().get(callback.reference), {
        reference: callback.reference,
        amount: body.data.amount,
        currency: 'IDR',
        provider: callback.provider,
        providerTransactionId: body.data.providerTransactionId,
        eventId: callback.eventId,
        paidAt: body.time,
      });
      assert.equal(typeof body.data.amount, 'string');
    }
    assert.equal(orders().get(mcpaymentExpired.reference), undefined);
    assert.equal(orders().get(ppob.reference), undefined);
    assert.equal(orders().list().length, 2);
  });

  it('ignores an at-least-once redelivery of an event it already handled (same messageId)', async () => {
    const { message } = tapped(nicepay);
    const connection = await amqplib.connect(AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      // The exact message again, as a publisher retry or a redelivery would bring it.
      channel.publish(bed.exchange, message.fields.routingKey, message.content, {
        ...message.properties,
        persistent: true,
      });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }

    await waitUntil(() => controller().stats.duplicates === 1, 'the duplicate to be seen');
    await sleep(300);
    assert.deepEqual(controller().stats, {
      handled: 2,
      duplicates: 1,
      failed: 0,
      rejected: 0,
      stale: 0,
    });
    assert.equal(orders().get(nicepay.reference)?.eventId, nicepay.eventId);
    assert.equal(orders().list().length, 2);
  });

  it('ignores an event whose transactionVersion is not higher than the one it applied', async () => {
    const { message } = tapped(nicepay);
    const body = JSON.parse(message.content.toString('utf8'));
    assertClockVersion(body.data.transactionVersion, body.data.receivedAt);
    // Another event of the same transaction (a new id), no newer than what was applied: e.g. one
    // that overtook a later transition, or a stale revision.
    const stale = { ...body, id: randomUUID() };
    const connection = await amqplib.connect(AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish(bed.exchange, message.fields.routingKey, Buffer.from(JSON.stringify(stale)), {
        ...message.properties,
        messageId: stale.id,
        persistent: true,
      });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await waitUntil(() => controller().stats.stale === 1, 'the stale event to be seen');
    await sleep(300);
    assert.equal(controller().stats.handled, 2);
    assert.equal(orders().get(nicepay.reference)?.eventId, nicepay.eventId);
  });

  it('a handler failure is nacked and redelivered, then applied exactly once', async () => {
    const service = orders();
    const markPaid = service.markPaid.bind(service);
    let calls = 0;
    service.markPaid = (order) => {
      calls += 1;
      if (calls === 1) throw new Error('database unavailable');
      return markPaid(order);
    };
    try {
      const s88pay = signedCallback('s88pay');
      assert.equal((await send(bed.gateway.url, s88pay)).status, 200);

      await waitUntil(() => controller().stats.handled === 3, 'the s88pay event to be handled');
      await sleep(300);
      assert.deepEqual(controller().stats, {
        handled: 3,
        duplicates: 1,
        failed: 1,
        rejected: 0,
        stale: 1,
      });
      assert.equal(calls, 2);
      assert.equal(orders().get(s88pay.reference)?.eventId, s88pay.eventId);
      assert.equal(orders().get(s88pay.reference)?.provider, 's88pay');
    } finally {
      service.markPaid = markPaid;
    }
  });

  it('acknowledged everything: nothing is left in its queue after it stops', async () => {
    await stop();
    assert.equal(await readyMessages(queue), 0);
  });
});
