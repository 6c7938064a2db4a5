import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { eventIdFor, type TransactionEvent } from '../../src/events/transaction-event.js';
import type { AcceptedCallbackRecord } from '../../src/transactions/callback-store.js';
import { dataSourceOptions } from '../../src/persistence/database.options.js';
import { SqlDialect } from '../../src/persistence/sql-dialect.js';
import { hintIdOf, VerificationStore } from '../../src/verification/verification.store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

function record(
  transactionKey: string,
  id = randomUUID(),
  body = `tXid=${transactionKey}&status=0`,
): AcceptedCallbackRecord {
  const rawBody = Buffer.from(body);
  return {
    id,
    provider: 'nicepay',
    account: 'default',
    transactionKey,
    status: 'succeeded',
    transitionKey: '',
    merchantReference: `ORD-${transactionKey}`,
    eventId: hintIdOf('nicepay', 'default', rawBody),
    credentialKey: 'primary',
    sourceIp: '127.0.0.1',
    method: 'POST',
    path: '/callbacks/nicepay',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody,
    verification: 'merchantToken matched',
    receivedAt: new Date(),
  };
}

const lease = () => ({ owner: 'test-instance', until: new Date(Date.now() + 30_000) });

const eventOf = (callback: AcceptedCallbackRecord) => {
  const id = eventIdFor('nicepay', 'default', callback.transactionKey, 'succeeded');
  return {
    id,
    type: 'payment.succeeded',
    routingKey: 'payment.succeeded.nicepay',
    provider: 'nicepay',
    body: { id },
  } as unknown as TransactionEvent;
};

/**
 * The batched write of hints (callbacks of verified providers, PostgreSQL): hints that reach the
 * store in one event-loop turn share one statement; exact copies (same bytes) among them and of
 * stored hints are duplicates, while a variant of the same transaction is stored beside the
 * original; each transaction is scheduled once; a row the database refuses fails only its own hint.
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

  it('exact copies in the same turn and of stored hints are duplicates; each original waits once', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `TXBATCH${i}-${randomUUID().slice(0, 8)}`);
    const earlier = record(keys[0]);
    const first = await store.storeHint(earlier, eventOf(earlier), lease());
    assert.equal(first.outcome, 'verifying');
    assert.equal(
      first.leased?.transactionKey,
      keys[0],
      'a free transaction is leased to the storer',
    );

    // One turn: every key three times (the first key's copies meet a stored callback).
    const sent = keys.flatMap((key) => [record(key), record(key), record(key)]);
    const results = await Promise.all(
      sent.map((callback) => store.storeHint(callback, eventOf(callback), lease())),
    );
    const outcomes = results.map((result) => result.outcome);
    assert.equal(store.batchesRetried, 0, 'written by the batched statement, not hint by hint');
    for (const [i, key] of keys.entries()) {
      const leases = results.slice(3 * i, 3 * i + 3).filter((result) => result.leased);
      // The first key's schedule is still leased from the first store; each other one once.
      assert.equal(leases.length, i === 0 ? 0 : 1, `${key}: leased once`);
    }
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
      const [stored] = await db.query<{
        id: string;
        outcome: string;
        event_id: string;
        credential_key: string;
      }>(`SELECT id, outcome, event_id, credential_key FROM callbacks WHERE transaction_key = $1`, [
        key,
      ]);
      assert.equal(stored.outcome, 'verifying');
      assert.equal(stored.credential_key, 'primary', 'the key that verified it is recorded');
      assert.notEqual(
        stored.event_id,
        eventIdFor('nicepay', 'default', key, 'succeeded'),
        "a hint never holds the event's id",
      );
      const waiting = await db.query<{ state: string; event: string }>(
        `SELECT state, event FROM verifications WHERE callback_id = $1`,
        [stored.id],
      );
      assert.equal(waiting.length, 1);
      assert.equal(waiting[0].state, 'verifying');
      assert.equal(
        JSON.parse(waiting[0].event).event.id,
        eventIdFor('nicepay', 'default', key, 'succeeded'),
      );
      const schedule = await db.query<{ next_at: Date | null }>(
        `SELECT next_at FROM inquiry_schedule WHERE provider = 'nicepay' AND account = 'default' AND transaction_key = $1`,
        [key],
      );
      assert.equal(schedule.length, 1, 'the transaction is scheduled once');
      assert.ok(schedule[0].next_at, 'and due');
      if (i > 0) {
        const winner = sent.slice(3 * i, 3 * i + 3)[mine.indexOf('verifying')];
        assert.equal(stored.id, winner.id, 'the callback answered "verifying" is the one stored');
      }
    }
  });

  it('variants of one transaction (other bytes) are all stored, and share one schedule row', async () => {
    const key = `TXVARIANT-${randomUUID().slice(0, 8)}`;
    const variants = Array.from({ length: 20 }, (_, i) =>
      record(key, randomUUID(), `tXid=${key}&status=1&referenceNo=VICTIM-${i}`),
    );
    const results = await Promise.all(variants.map((v) => store.storeHint(v, eventOf(v), lease())));
    assert.deepEqual([...new Set(results.map((result) => result.outcome))], ['verifying']);
    assert.equal(
      results.filter((result) => result.leased).length,
      1,
      'one lease for the transaction',
    );
    assert.equal(
      await count(`SELECT count(*) AS n FROM verifications WHERE transaction_key = $1`, [key]),
      20,
    );
    assert.equal(
      await count(`SELECT count(*) AS n FROM inquiry_schedule WHERE transaction_key = $1`, [key]),
      1,
    );
  });

  it('a row the database refuses fails only its own callback', async () => {
    const good = Array.from({ length: 5 }, (_, i) =>
      record(`TXGOOD${i}-${randomUUID().slice(0, 8)}`),
    );
    // An id longer than callbacks.id (varchar(36)): the batch statement fails as a whole.
    const bad = record(`TXBAD-${randomUUID().slice(0, 8)}`, `${randomUUID()}-too-long`);
    const settled = await Promise.allSettled(
      [...good.slice(0, 2), bad, ...good.slice(2)].map((callback) =>
        store.storeHint(callback, eventOf(callback), lease()),
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
