import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteTopology, EventTap, uniqueExchange } from '../support/broker.js';
import { PPOB } from '../support/credentials.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type GatewayProcess, spawnGateway } from '../support/gateway-process.js';
import { callbackUrl, uniqueRef } from '../support/ppob-sidopulsa.js';

const TRANSACTIONS = 200;

/**
 * Two gateway processes sharing PostgreSQL receive, for each of 200 transactions, its `Pending`
 * and its `Success` report at the same moment, in random order, mostly each on a different process. The
 * transitions of a transaction serialize on its state row: exactly one order is recorded, every
 * transaction ends `succeeded`, and the published versions increase with no repeats.
 */
describe('concurrent statuses of one transaction on two gateway processes (PostgreSQL)', () => {
  let db: TestDatabase;
  let tap: EventTap;
  const exchange = uniqueExchange();
  const gateways: GatewayProcess[] = [];

  before(async () => {
    db = await createTestDatabase('postgres');
    tap = await EventTap.bind(exchange);
    const env = { ...db.env, EVENTS_EXCHANGE: exchange, LOG_LEVEL: 'warn' };
    // One after the other: the first runs the migrations.
    gateways.push(await spawnGateway(env));
    gateways.push(await spawnGateway(env));
  });

  after(async () => {
    for (const gateway of gateways) gateway.child.kill('SIGTERM');
    await Promise.all(gateways.map((gateway) => gateway.exited));
    await tap.close();
    await deleteTopology(exchange).catch(() => undefined);
    await db.drop();
  });

  it('every transaction ends succeeded; no pending event above its succeeded one; versions increasing without repeats', async () => {
    const refs = Array.from({ length: TRANSACTIONS }, () => uniqueRef('CC'));
    const report = (ref: string, status: 'Pending' | 'Success') => ({
      ref_id: ref,
      status,
      sn: status === 'Success' ? '0512345678901234' : '',
      code: 'S10',
      destination: '08123214214',
    });
    const responses = await Promise.all(
      refs.flatMap((ref) => {
        const order: Array<'Pending' | 'Success'> =
          Math.random() < 0.5 ? ['Pending', 'Success'] : ['Success', 'Pending'];
        const first = Math.random() < 0.5 ? 0 : 1;
        // Mostly one report on each process; every fifth transaction both on the same one (they
        // may then share a batched statement's event-loop turn).
        const step = Math.random() < 0.2 ? 0 : 1;
        return order.map((status, i) =>
          fetch(
            callbackUrl(gateways[(first + i * step) % 2].url, 'ppob', report(ref, status), {
              token: PPOB.token,
            }),
          ).then(async (res) => ({ status: res.status, body: await res.text() })),
        );
      }),
    );
    assert.deepEqual(
      responses.filter((r) => r.status !== 200 || r.body !== 'OK'),
      [],
      'every report acknowledged',
    );

    const states = await db.query<{ transaction_key: string; status: string; version: number }>(
      `SELECT transaction_key, status, version FROM transactions WHERE transaction_key LIKE 'CC%'`,
    );
    assert.equal(states.length, TRANSACTIONS);
    assert.deepEqual(
      states.filter((s) => s.status !== 'succeeded'),
      [],
      'every transaction ends succeeded',
    );
    const callbacks = await db.query<{ transaction_key: string; status: string; outcome: string }>(
      `SELECT transaction_key, status, outcome FROM callbacks WHERE transaction_key LIKE 'CC%'`,
    );
    assert.equal(callbacks.length, 2 * TRANSACTIONS, 'both reports of every transaction stored');
    // One event per transition: per accepted callback.
    const expectedEvents = callbacks.filter((c) => c.outcome === 'accepted').length;

    await tap.waitFor(expectedEvents, 30_000, 1000);
    const events = tap.bodies();
    assert.equal(events.length, expectedEvents, 'one event per transition, none repeated');
    assert.equal(new Set(events.map((e) => e.id)).size, expectedEvents);

    const byRef = new Map<
      string,
      Array<{ status: string; version: number; previous: string | null }>
    >();
    for (const e of events) {
      const list = byRef.get(e.subject) ?? [];
      list.push({
        status: e.data.status,
        version: e.data.transactionVersion,
        previous: e.data.previousStatus,
      });
      byRef.set(e.subject, list);
    }
    let pendingFirst = 0;
    for (const { transaction_key: ref, version } of states) {
      const published = (byRef.get(ref) ?? []).sort((a, b) => a.version - b.version);
      // Versions are ordered (clock-derived), not counted: distinct, and the state holds the last.
      assert.equal(
        new Set(published.map((e) => e.version)).size,
        published.length,
        `${ref}: no repeat`,
      );
      assert.equal(
        published.at(-1)?.version,
        Number(version),
        `${ref}: the state's version is the last`,
      );
      const list = published.map((e, i) => ({ ...e, version: i + 1 }));
      const succeeded = list.find((e) => e.status === 'succeeded');
      assert.ok(succeeded, `${ref}: a succeeded event`);
      for (const e of list.filter((x) => x.status === 'pending'))
        assert.ok(e.version < succeeded.version, `${ref}: pending after succeeded was published`);
      // The recorded order, as the callbacks' outcomes tell it.
      const stored = callbacks.filter((c) => c.transaction_key === ref);
      const pending = stored.find((c) => c.status === 'pending')!;
      if (list.length === 2) {
        pendingFirst += 1;
        assert.deepEqual(list, [
          { status: 'pending', version: 1, previous: null },
          { status: 'succeeded', version: 2, previous: 'pending' },
        ]);
        assert.equal(pending.outcome, 'accepted');
      } else {
        assert.deepEqual(list, [{ status: 'succeeded', version: 1, previous: null }]);
        assert.equal(pending.outcome, 'superseded');
      }
    }
    // Both orders happened (the test really raced them), each recorded consistently above.
    assert.ok(pendingFirst > 0 && pendingFirst < TRANSACTIONS, `pending first in ${pendingFirst}`);
  });
});
