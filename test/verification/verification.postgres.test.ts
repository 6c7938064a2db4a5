import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SandboxLedger } from '../../src/sandbox/sandbox-ledger.js';
import { deleteTopology, EventTap, sleep, uniqueExchange } from '../support/broker.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type RunningGateway, startGateway } from '../support/gateway.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { eventually, verificationSuite } from './verification.suite.js';

verificationSuite('postgres');

describe('two replicas sharing PostgreSQL: one inquiry per callback', () => {
  let db: TestDatabase;
  let tap: EventTap;
  let sandbox: TestSandbox;
  const replicas: RunningGateway[] = [];
  const exchange = uniqueExchange();

  before(async () => {
    db = await createTestDatabase('postgres');
    tap = await EventTap.bind(exchange);
    sandbox = await startTestSandbox();
    for (let i = 0; i < 2; i += 1) {
      replicas.push(
        await startGateway({
          ...db.env,
          ...sandbox.env,
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
    await sandbox.sandbox.close();
    await deleteTopology(exchange).catch(() => undefined);
    await db.drop();
  });

  it('callbacks spread over both replicas are each asked about once and published once', async () => {
    const keys: Array<{ name: string; key: string }> = [];
    const names = ['nicepay', 'mcpayment', 's88pay'];
    for (let i = 0; i < 30; i += 1) {
      const name = names[i % names.length];
      // Each callback goes to one replica, as a load balancer would send it.
      sandbox.sandbox.setGatewayUrl(replicas[i % 2].url);
      const created = await sandbox.sandbox
        .provider<SandboxLedger<unknown>>(name)
        .create({ status: 'succeeded', reference: `ORD-REPLICAS-${i}` });
      assert.equal(created.gatewayStatus, 200);
      keys.push({ name, key: created.key });
    }
    await eventually('30 events', async () => tap.messages.length >= 30, 30_000);
    await sleep(2_000); // both replicas sweep several times more
    assert.equal(tap.messages.length, 30);
    const asked = keys.map(
      ({ name, key }) => sandbox.sandbox.provider<SandboxLedger<unknown>>(name).get(key)!.inquiries,
    );
    assert.deepEqual(
      asked,
      keys.map(() => 1),
    );
  });
});
