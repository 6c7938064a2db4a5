import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { eventIdFor, type TransactionEvent } from '../../src/events/transaction-event.js';
import type { AcceptedCallbackRecord } from '../../src/persistence/callback-store.js';
import { dataSourceOptions } from '../../src/persistence/database.options.js';
import { SqlDialect } from '../../src/persistence/sql-dialect.js';
import { VerificationStore } from '../../src/verification/verification.store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

function record(transactionKey: string, id = randomUUID()): AcceptedCallbackRecord {
  return {
    id,
    provider: 'nicepay',
    account: 'default',
    transactionKey,
    status: 'succeeded',
    transitionKey: '',
    merchantReference: `ORD-${transactionKey}`,
    eventId: eventIdFor('nicepay', 'default', transactionKey, 'succeeded'),
    sourceIp: '127.0.0.1',
    method: 'POST',
    path: '/callbacks/nicepay',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: Buffer.from(`tXid=${transactionKey}&status=0`),
    verification: 'merchantToken matched',
    receivedAt: new Date(),
  };
}

const eventOf = (callback: AcceptedCallbackRecord) =>
  ({
    id: callback.eventId,
    type: 'payment.succeeded',
    routingKey: 'payment.succeeded.nicepay',
    provider: 'nicepay',
    body: { id: callback.eventId },
  }) as unknown as TransactionEvent;

const lease = () => ({ owner: 'test-instance', until: new Date(Date.now() + 30_000) });

/**
 * The batched write of callbacks waiting for verification (PostgreSQL): callbacks that reach the
 * store in one event-loop turn share one statement, copies among them and of stored callbacks are
 * duplicates, and a row the database refuses fails only its own callback.
 */
describe('callbacks waiting for verification, written in batches (postgres)', () => {
  let db: TestDatabase;
  let source: DataSource;
  let store: VerificationStore;

  before(async () => {
    db = await createTestDatabase('postgres');
    source = new DataSource({
      ...dataSourceOptions({
        type: 'postgres',
        url: db.env.DATABASE_URL,
        poolSize: 4,
        runMigrations: true,
      }),
    });
    await source.initialize();
    store = new VerificationStore(new SqlDialect(source));
  });
  after(async () => {
    await source.destroy();
    await db.drop();
  });

  const count = async (sql: string, params: unknown[]) =>
    Number((await db.query<{ n: string }>(sql, params))[0].n);

  it('copies in the same turn and of stored callbacks are duplicates; each original waits once', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `TXBATCH${i}-${randomUUID().slice(0, 8)}`);
    const earlier = record(keys[0]);
    assert.equal(await store.storeVerifying(earlier, eventOf(earlier), lease()), 'verifying');

    // One turn: every key three times (the first key's copies meet a stored callback).
    const sent = keys.flatMap((key) => [record(key), record(key), record(key)]);
    const outcomes = await Promise.all(
      sent.map((callback) => store.storeVerifying(callback, eventOf(callback), lease())),
    );
    for (const [i, key] of keys.entries()) {
      const mine = outcomes.slice(3 * i, 3 * i + 3);
      assert.deepEqual(
        [...mine].sort(),
        i === 0 ? ['duplicate', 'duplicate', 'duplicate'] : ['duplicate', 'duplicate', 'verifying'],
        key,
      );
      assert.equal(
        await count(`SELECT count(*) AS n FROM callbacks WHERE transaction_key = $1`, [key]),
        1,
      );
      const [stored] = await db.query<{ id: string; outcome: string }>(
        `SELECT id, outcome FROM callbacks WHERE transaction_key = $1`,
        [key],
      );
      assert.equal(stored.outcome, 'verifying');
      const waiting = await db.query<{ state: string; lease_owner: string; event: string }>(
        `SELECT state, lease_owner, event FROM verifications WHERE callback_id = $1`,
        [stored.id],
      );
      assert.equal(waiting.length, 1);
      assert.equal(waiting[0].state, 'verifying');
      assert.equal(waiting[0].lease_owner, 'test-instance');
      assert.equal(
        JSON.parse(waiting[0].event).event.id,
        eventIdFor('nicepay', 'default', key, 'succeeded'),
      );
      if (i > 0) {
        const winner = sent.slice(3 * i, 3 * i + 3)[mine.indexOf('verifying')];
        assert.equal(stored.id, winner.id, 'the callback answered "verifying" is the one stored');
      }
    }
  });

  it('a row the database refuses fails only its own callback', async () => {
    const good = Array.from({ length: 5 }, (_, i) =>
      record(`TXGOOD${i}-${randomUUID().slice(0, 8)}`),
    );
    // An id longer than callbacks.id (varchar(36)): the batch statement fails as a whole.
    const bad = record(`TXBAD-${randomUUID().slice(0, 8)}`, `${randomUUID()}-too-long`);
    const settled = await Promise.allSettled(
      [...good.slice(0, 2), bad, ...good.slice(2)].map((callback) =>
        store.storeVerifying(callback, eventOf(callback), lease()),
      ),
    );
    assert.deepEqual(
      settled.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    for (const callback of good) {
      assert.equal(
        await count(`SELECT count(*) AS n FROM verifications WHERE callback_id = $1`, [
          callback.id,
        ]),
        1,
      );
    }
    assert.equal(
      await count(`SELECT count(*) AS n FROM callbacks WHERE transaction_key = $1`, [
        bad.transactionKey,
      ]),
      0,
      'nothing half stored',
    );
  });
});
