import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import { deleteTopology, EventTap, sleep, uniqueExchange } from '../support/broker.js';
import { send, signedCallback } from '../support/callbacks.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type RunningGateway, startGateway } from '../support/gateway.js';
import { runCommand } from '../support/run-command.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { expectedMigration } from '../../src/persistence/schema-migrations.js';
import { MIGRATIONS } from '../../src/persistence/migrations/index.js';

/**
 * Database faults on the machine's PostgreSQL, through a TCP proxy (the real cluster failovers are
 * in test/faults/database-failover-*.test.ts): a hung connection, a reply lost after the commit, an
 * unmigrated schema, and migration runners started together.
 */

const MIGRATE = fileURLToPath(new URL('../../src/migrate.js', import.meta.url));

function throughProxy(url: string, port: number): string {
  const proxied = new URL(url);
  proxied.port = String(port);
  return proxied.toString();
}

async function ready(gateway: RunningGateway): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gateway.url}/health/ready`);
  return { status: res.status, body: await res.text() };
}

describe('database faults are short (postgres)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function bed(env: Record<string, string>, proxy?: TcpProxy) {
    const db = await createTestDatabase('postgres');
    cleanups.push(() => db.drop());
    const exchange = uniqueExchange();
    cleanups.push(() => deleteTopology(exchange));
    const tap = await EventTap.bind(exchange);
    cleanups.push(() => tap.close());
    const url = proxy ? throughProxy(db.env.DATABASE_URL, proxy.port) : db.env.DATABASE_URL;
    const gateway = await startGateway({ DATABASE_URL: url, EVENTS_EXCHANGE: exchange, ...env });
    cleanups.push(() => gateway.close());
    await gateway.brokerReady();
    return { db, gateway, tap };
  }

  it('a hung connection (no reset) costs seconds: 503 meanwhile, then 2xx again without a restart', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5432);
    await proxy.start();
    cleanups.push(() => proxy.cut());
    const { gateway } = await bed(
      { DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_CONNECT_TIMEOUT_MS: '1000' },
      proxy,
    );
    const warm = await Promise.all(
      Array.from({ length: 6 }, () => send(gateway.url, signedCallback('ppob'))),
    );
    assert.deepEqual(
      warm.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.ok(proxy.openConnections >= 1, 'the pool holds connections through the proxy');
    // Every open connection hangs: queries sent on them never get an answer, nothing is reset.
    console.log(`freezing ${proxy.openConnections} connections`);
    proxy.freeze();
    const frozenAt = Date.now();
    const statuses: number[] = [];
    let recoveredAfter = -1;
    while (Date.now() - frozenAt < 20_000) {
      const res = await send(gateway.url, signedCallback('ppob'));
      statuses.push(res.status);
      if (res.status === 200) {
        recoveredAfter = Date.now() - frozenAt;
        break;
      }
      assert.equal(res.status, 503, 'a callback that could not be stored is answered 503');
    }
    console.log(
      `hung connections: ${statuses.length - 1} callbacks answered 503, 2xx again after ${recoveredAfter} ms`,
    );
    assert.ok(recoveredAfter >= 0, 'the pool replaced its hung connections by itself');
    assert.ok(recoveredAfter < 8_000, `recovered within seconds (${recoveredAfter} ms)`);
    assert.equal((await ready(gateway)).status, 200);
  });

  it('a reply lost after the commit (outcome unknown) is answered 503; the retry is a duplicate with one event', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5432);
    await proxy.start();
    cleanups.push(() => proxy.cut());
    // The row the lost reply belonged to stays leased to this gateway until the lease ends.
    const { db, gateway, tap } = await bed({ OUTBOX_LEASE_MS: '2000' }, proxy);
    const callback = signedCallback('ppob');
    // The batched write answers each stored callback with its outcome: drop that reply and the
    // connection with it, after PostgreSQL has committed.
    proxy.dropReply = (chunk) => {
      if (!chunk.includes('accepted')) return false;
      proxy.dropReply = null;
      return true;
    };
    const first = await send(gateway.url, callback);
    assert.equal(first.status, 503, 'the outcome is unknown to the gateway: the provider retries');
    const stored = await db.query(`SELECT outcome FROM callbacks WHERE event_id = $1`, [
      callback.eventId,
    ]);
    assert.deepEqual(
      stored.map((r) => r.outcome),
      ['accepted'],
      'the commit happened',
    );
    const retry = await send(gateway.url, callback);
    assert.equal(retry.status, 200, 'the retry is acknowledged');
    await tap.waitFor(1, 10_000, 1_000);
    assert.deepEqual(
      tap.messages.map((m) => m.properties.messageId),
      [callback.eventId],
      'one event, published from the stored outbox row',
    );
  });

  it('an unmigrated database: /health/ready is 503 naming the schema; after the migrations it is 200', async () => {
    const { db, gateway } = await bed({ DATABASE_MIGRATIONS_RUN: 'false' });
    const before = await ready(gateway);
    assert.equal(before.status, 503);
    assert.match(before.body, /schema: database has no schema/);
    assert.match(before.body, new RegExp(expectedMigration()));
    const migrated = await runCommand(process.execPath, [MIGRATE], {
      cwd: tmpdir(),
      env: { NODE_ENV: 'test', DATABASE_URL: db.env.DATABASE_URL },
    });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal((await ready(gateway)).status, 200);
    // One release behind: the newest migration missing.
    await db.query(`DELETE FROM migrations WHERE name = $1`, [expectedMigration()]);
    const behind = await ready(gateway);
    assert.equal(behind.status, 503);
    assert.match(behind.body, /schema at \w+, this build expects/);
  });

  it('two migration runners at once on a fresh database: both succeed, each migration applied once', async () => {
    const db: TestDatabase = await createTestDatabase('postgres');
    cleanups.push(() => db.drop());
    const run = () =>
      runCommand(process.execPath, [MIGRATE], {
        cwd: tmpdir(),
        env: { NODE_ENV: 'test', DATABASE_URL: db.env.DATABASE_URL },
        timeoutMs: 90_000,
      });
    const results = await Promise.all([run(), run(), run()]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const outputs = results.map((r) => r.stdout.trim()).sort();
    assert.equal(
      outputs.filter((o) => o.startsWith(`Applied ${MIGRATIONS.length} migration(s)`)).length,
      1,
      outputs.join('\n'),
    );
    assert.equal(outputs.filter((o) => o === 'Database schema is up to date').length, 2);
    const rows = await db.query<{ name: string; n: string }>(
      `SELECT name, count(*) AS n FROM migrations GROUP BY name`,
    );
    assert.equal(rows.length, MIGRATIONS.length);
    assert.ok(rows.every((r) => Number(r.n) === 1));
    await sleep(0);
  });
});
