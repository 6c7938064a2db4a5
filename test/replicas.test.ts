import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AMQP_URL, deleteTopology, EventTap, sleep, uniqueExchange } from './support/broker.js';
import { PROVIDERS, send, signedCallback } from './support/callbacks.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { type RunningGateway, startGateway } from './support/gateway.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { GatewayMetrics } from '../src/observability/gateway-metrics.js';

/**
 * Two replicas on one PostgreSQL database: each publishes what it stored, and both sweep the
 * backlog a broker outage left. Rows are claimed with FOR UPDATE SKIP LOCKED under a lease, so
 * no event may be published twice.
 */
describe('two replicas sharing PostgreSQL', () => {
  let db: TestDatabase;
  let tap: EventTap;
  const replicas: RunningGateway[] = [];
  const exchange = uniqueExchange();
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(AMQP_URL).port || 5672));

  before(async () => {
    db = await createTestDatabase('postgres');
    tap = await EventTap.bind(exchange);
    const port = await proxy.start();
    const viaProxy = new URL(AMQP_URL);
    viaProxy.port = String(port);
    for (let i = 0; i < 2; i += 1) {
      replicas.push(
        await startGateway({
          ...db.env,
          EVENTS_EXCHANGE: exchange,
          AMQP_URL: viaProxy.toString(),
          // Small claims, so both replicas are sweeping the same backlog at the same time.
          OUTBOX_BATCH_SIZE: '10',
          OUTBOX_SWEEP_INTERVAL_MS: '100',
        }),
      );
    }
    for (const replica of replicas) await replica.brokerReady();
  });

  after(async () => {
    await tap.close();
    for (const replica of replicas) await replica.close().catch(() => undefined);
    await proxy.cut();
    await deleteTopology(exchange).catch(() => undefined);
    await db.drop();
  });

  it('publish every event exactly once: live traffic, and a backlog both of them sweep', async () => {
    const sent: string[] = [];
    const sendRound = async (count: number) => {
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const callback = signedCallback(PROVIDERS[i % PROVIDERS.length]);
          const res = await send(replicas[i % 2].url, callback);
          assert.equal(res.status, 200);
          sent.push(callback.eventId);
        }),
      );
    };

    await sendRound(100);
    await tap.waitFor(100, 10_000, 300);

    // Broker unreachable for both: callbacks are stored unleased, then both replicas race to
    // sweep the backlog when it returns.
    await proxy.cut();
    await sleep(300);
    await sendRound(300);
    const [{ n }] = await db.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    assert.equal(Number(n), 300, 'the backlog is stored, unpublished');
    await proxy.restore();

    await tap.waitFor(400, 30_000, 1500);
    const ids = tap.messages.map((m) => String(m.properties.messageId));
    assert.equal(new Set(ids).size, 400, 'every event arrived');
    assert.deepEqual(new Set(ids), new Set(sent));
    assert.equal(ids.length, 400, `${ids.length - 400} events were published twice`);
    // The replicas' own count agrees: 400 confirmed publishes between them, none repeated.
    const shares = await Promise.all(
      replicas.map(async (replica) => {
        const metric = await replica.app.get(GatewayMetrics).eventsPublished.get();
        return metric.values.reduce((sum, v) => sum + v.value, 0);
      }),
    );
    process.stdout.write(`# published by replica A: ${shares[0]}, by replica B: ${shares[1]}\n`);
    assert.equal(shares[0] + shares[1], 400);
    const owners = await db.query<{ n: string }>(
      'SELECT COUNT(DISTINCT lease_owner) AS n FROM outbox',
    );
    assert.equal(Number(owners[0].n), 0, 'every lease was released on publish');
  });
});
