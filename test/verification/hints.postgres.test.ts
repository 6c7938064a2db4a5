import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { McpaymentSandbox } from '../../src/providers/mcpayment/mcpayment.sandbox.js';
import { deleteTopology, EventTap, sleep, uniqueExchange } from '../support/broker.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type RunningGateway, startGateway } from '../support/gateway.js';
import { inquiryEnv, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { StatusApiProxy } from '../support/status-api-proxy.js';
import { hintSuite } from './hints.suite.js';
import { eventually, sendCallback } from './verification.suite.js';

hintSuite('postgres');

describe('two replicas sharing PostgreSQL: hints of one transaction on both never make two inquiries at once', () => {
  let db: TestDatabase;
  let tap: EventTap;
  let sandbox: TestSandbox;
  let proxy: StatusApiProxy;
  const replicas: RunningGateway[] = [];
  const exchange = uniqueExchange();

  before(async () => {
    db = await createTestDatabase('postgres');
    tap = await EventTap.bind(exchange);
    sandbox = await startTestSandbox();
    proxy = new StatusApiProxy(sandbox.sandbox.url, (_path, body) => {
      try {
        return String((JSON.parse(body) as { transaction_id?: string }).transaction_id ?? body);
      } catch {
        return body;
      }
    });
    await proxy.start();
    for (let i = 0; i < 2; i += 1) {
      replicas.push(
        await startGateway({
          ...db.env,
          ...inquiryEnv(proxy.url),
          EVENTS_EXCHANGE: exchange,
          OUTBOX_SWEEP_INTERVAL_MS: '100',
          ADMIN_API_KEY: 'two-replicas-admin-key-0123456789',
          EXPECTED_MIN_INTERVAL_SECONDS: '1',
          EXPECTED_MAX_INTERVAL_SECONDS: '1',
        }),
      );
    }
    for (const replica of replicas) await replica.brokerReady();
  });

  after(async () => {
    await tap.close();
    for (const replica of replicas) await replica.close().catch(() => undefined);
    await proxy.close();
    await sandbox.sandbox.close();
    await deleteTopology(exchange).catch(() => undefined);
    await db.drop();
  });

  it('100 variants of one MCPayment callback over both replicas, the status API slow: one inquiry at a time, one event', async () => {
    const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
    const created = await mcpayment.create({
      status: 'PAID',
      reference: 'ORD-TWO-REPLICAS',
      send: false,
    });
    const body = JSON.parse(created.callback!.body!) as Record<string, unknown>;
    const id = String(body.transaction_id);
    proxy.set(() => ({ delayMs: 400 }));
    try {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          sendCallback(replicas[i % 2].url, {
            ...created.callback!,
            body: JSON.stringify({
              ...body,
              transaction_status: i % 3 === 0 ? 'PAID' : 'REFUNDED',
              note: i,
            }),
          }),
        ),
      );
      assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
      await eventually(
        'every hint settled',
        async () => {
          const [row] = await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM verifications WHERE transaction_key = $1 AND state = 'verifying'`,
            [id],
          );
          return Number(row.n) === 0;
        },
        30_000,
      );
    } finally {
      proxy.set(null);
    }
    await sleep(1_000);
    assert.equal(proxy.maxInFlight.get(id), 1, 'never two inquiries about it at once');
    const asked = proxy.requests.filter((r) => r.body.includes(id)).length;
    assert.ok(asked <= 6, `inquiries: ${asked}`);
    const events = tap.bodies().filter((b) => b.data.providerTransactionId === id);
    assert.deepEqual(
      events.map((b) => b.type),
      ['payment.succeeded'],
    );
  });
  it('an expected payment followed by both replicas: never asked twice at once, published once', async () => {
    const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
    const created = await mcpayment.create({
      status: 'ACTIVE',
      reference: 'ORD-TWO-EXPECTED',
      send: false,
    });
    const body = JSON.parse(created.callback!.body!) as Record<string, unknown>;
    const id = String(body.transaction_id);
    proxy.set(() => ({ delayMs: 700 }));
    try {
      const answer = await fetch(`${replicas[0].managementUrl}/payments/expected`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-admin-key': 'two-replicas-admin-key-0123456789',
        },
        body: JSON.stringify({
          provider: 'mcpayment',
          account: 'default',
          providerTransactionId: id,
          merchantReference: body.order_id,
          amount: String((body.payment_details as Record<string, unknown>).amount),
          currency: 'IDR',
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
          details: {
            externalId: body.external_id,
            paymentMethod: body.payment_method,
            paymentChannel: body.payment_channel,
          },
        }),
      });
      assert.equal(answer.status, 201);
      await eventually(
        'asked several times',
        async () => proxy.requests.filter((r) => r.body.includes(id)).length >= 3,
        15_000,
      );
      await mcpayment.update(created.key, { status: 'PAID', send: false });
      await eventually(
        'paid, found by inquiry',
        async () =>
          tap
            .bodies()
            .some((b) => b.data.providerTransactionId === id && b.type === 'payment.succeeded'),
        15_000,
      );
    } finally {
      proxy.set(null);
    }
    assert.equal(proxy.maxInFlight.get(id), 1, 'never two inquiries about it at once');
    await sleep(1_500);
    const events = tap.bodies().filter((b) => b.data.providerTransactionId === id);
    assert.deepEqual(
      events.map((b) => b.type),
      ['payment.pending', 'payment.succeeded'],
    );
  });
});
