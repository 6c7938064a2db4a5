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
});
