import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteTopology, EventTap, sleep, uniqueExchange } from '../support/broker.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type GatewayProcess, spawnGateway } from '../support/gateway-process.js';
import { uniqueRef } from '../support/ppob-sidopulsa.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import {
  deleteQueues,
  publishCommands,
  startTopupSandbox,
  topupCommand,
  topupEnv,
  uniqueQueue,
  waitUntil,
} from '../support/topups.js';

/**
 * The gateway process is killed with SIGKILL while an order is committed but not yet answered by
 * the provider; the restarted gateway (same port, database and queue) places it once.
 */
describe('top-up orders survive kill -9 of the gateway between commit and the provider answer', () => {
  let db: TestDatabase;
  let sandbox: Awaited<ReturnType<typeof startTopupSandbox>>;
  let proxy: TcpProxy;
  let tap: EventTap;
  let gateway: GatewayProcess | null = null;
  const exchange = uniqueExchange();
  const queue = uniqueQueue();
  const slow = new Set<string>();
  let env: Record<string, string>;

  before(async () => {
    db = await createTestDatabase('postgres');
    sandbox = await startTopupSandbox({
      answerDelayMs: (ref, attempt) => (slow.has(ref) && attempt === 1 ? 4_000 : 0),
    });
    proxy = new TcpProxy('127.0.0.1', sandbox.host.port);
    await proxy.start();
    tap = await EventTap.bind(exchange, 'topup.#');
    env = {
      ...db.env,
      ...topupEnv(`http://127.0.0.1:${proxy.port}`, queue),
      EVENTS_EXCHANGE: exchange,
      TOPUP_REQUEST_TIMEOUT_MS: '8000',
      TOPUP_LEASE_MS: '9000',
      TOPUP_RETRY_BASE_MS: '1500',
      TOPUP_RETRY_MAX_MS: '2000',
    };
  });
  after(async () => {
    gateway?.child.kill('SIGKILL');
    await tap.close();
    await proxy.cut();
    await sandbox.host.close();
    await deleteTopology(exchange).catch(() => undefined);
    await deleteQueues(queue, `${queue}.dead-letter`);
    await db.drop();
  });

  const eventsOf = (reference: string) =>
    tap
      .bodies()
      .filter((b) => b.subject === reference)
      .map((b) => b.type as string);
  const orderRow = async (reference: string) =>
    (await db.query('SELECT * FROM topup_orders WHERE reference = $1', [reference]))[0];

  async function killAndRestart(): Promise<void> {
    const { port } = gateway!;
    gateway!.child.kill('SIGKILL');
    assert.equal(await gateway!.exited, null, 'the gateway died of the signal');
    gateway = await spawnGateway(env, port);
  }

  it('killed after the commit, before any request reached the provider: placed once after the restart', async () => {
    gateway ??= await spawnGateway(env);
    sandbox.host.setGatewayUrl(gateway.url);
    const reference = uniqueRef('K');
    await proxy.cut(); // the provider is unreachable: the order is stored, its request cannot arrive
    await publishCommands(queue, [
      topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '08123214214' }),
    ]);
    await waitUntil(async () => (await orderRow(reference)) !== undefined, 'the order committed');
    await sleep(300);
    assert.equal(sandbox.ppob.requests.filter((r) => r.reference === reference).length, 0);
    await killAndRestart();
    await proxy.restore();

    await waitUntil(() => eventsOf(reference).length >= 2, 'pending and succeeded', 20_000);
    await sleep(800);
    assert.deepEqual(eventsOf(reference), ['topup.pending', 'topup.succeeded']);
    assert.equal(sandbox.ppob.orders().filter((o) => o.refid === reference).length, 1);
    assert.deepEqual(
      sandbox.ppob.requests.filter((r) => r.reference === reference).map((r) => r.outcome),
      ['created'],
    );
    assert.equal((await orderRow(reference)).placement, 'placed');
  });

  it('killed while the provider held its answer: the resend finds the one order (same refid)', async () => {
    gateway ??= await spawnGateway(env);
    sandbox.host.setGatewayUrl(gateway.url);
    const reference = uniqueRef('W');
    slow.add(reference);
    await publishCommands(queue, [
      topupCommand({ provider: 'ppob', reference, product: 'S10', destination: '08123214214' }),
    ]);
    await waitUntil(
      () => sandbox.ppob.requests.some((r) => r.reference === reference),
      'the request at the provider',
    );
    await killAndRestart();

    // The answer died with the process; the provider reported Success meanwhile, and the resend
    // (after the lease ran out) is answered with that state: one succeeded event, no second order.
    await waitUntil(
      () => sandbox.ppob.requests.filter((r) => r.reference === reference).length >= 2,
      'the resend after the restart',
      30_000,
    );
    await waitUntil(async () => (await orderRow(reference)).placement === 'placed', 'settled');
    await sleep(800);
    assert.deepEqual(eventsOf(reference), ['topup.succeeded']);
    assert.equal(sandbox.ppob.orders().filter((o) => o.refid === reference).length, 1);
    assert.deepEqual(
      sandbox.ppob.requests.filter((r) => r.reference === reference).map((r) => r.outcome),
      ['created', 'repeat'],
    );
    assert.equal((await orderRow(reference)).provider_status, 'Success');
    const answers = await db.query(
      `SELECT status FROM callbacks WHERE provider = 'ppob' AND transaction_key = $1 ORDER BY status`,
      [reference],
    );
    // The report and the resend's answer: one state, stored twice (the second a duplicate).
    assert.deepEqual(
      answers.map((a) => a.status),
      ['succeeded'],
    );
  });
});
