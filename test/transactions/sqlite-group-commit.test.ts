import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { eventIdFor, type TransactionEvent } from '../../src/events/transaction-event.js';
import {
  type AcceptedCallbackRecord,
  CallbackStore,
  type StoreOutcome,
} from '../../src/transactions/callback-store.js';
import { dataSourceOptions } from '../../src/persistence/database.options.js';
import { SqlDialect, step } from '../../src/persistence/sql-dialect.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { assertIncreasing } from '../support/versions.js';

function callback(transactionKey: string, status: 'pending' | 'succeeded'): AcceptedCallbackRecord {
  return {
    id: randomUUID(),
    provider: 'ppob',
    account: 'default',
    transactionKey,
    status,
    transitionKey: '',
    merchantReference: `ORD-${transactionKey}`,
    eventId: eventIdFor('ppob', 'default', transactionKey, status),
    sourceIp: '127.0.0.1',
    method: 'GET',
    path: '/callbacks/ppob/:token',
    headers: {},
    rawBody: Buffer.from(`trxid=${transactionKey}&status=${status}`),
    verification: 'URL token matched',
    receivedAt: new Date(),
  };
}

const eventOf = (record: AcceptedCallbackRecord) =>
  ({
    id: record.eventId,
    type: `topup.${record.status}`,
    routingKey: `topup.${record.status}.ppob`,
    provider: 'ppob',
    body: { specversion: '1.0', id: record.eventId, data: { status: record.status } },
  }) as unknown as TransactionEvent;

/**
 * SQLite group commit: the callbacks of one event-loop turn share one transaction (one fsync), each
 * in its own savepoint — copies among them are duplicates, transitions of one transaction follow
 * arrival order, and a plan that fails rolls back only itself.
 */
describe('SQLite group commit', () => {
  let db: TestDatabase;
  let source: DataSource;
  let sql: SqlDialect;

  before(async () => {
    db = await createTestDatabase('sqlite');
    source = new DataSource(
      dataSourceOptions({ type: 'better-sqlite3', path: db.env.SQLITE_PATH, runMigrations: true }),
    );
    await source.initialize();
    sql = new SqlDialect(source);
  });
  after(async () => {
    await source.destroy();
    await db.drop();
  });

  it('callbacks of one turn: copies are duplicates, transitions in arrival order, one state each', async () => {
    const store = new CallbackStore(sql);
    const keys = Array.from({ length: 20 }, (_, i) => `TXG${i}-${randomUUID().slice(0, 8)}`);
    const sent = keys.flatMap((key) => {
      const pending = callback(key, 'pending');
      const succeeded = callback(key, 'succeeded');
      return [pending, { ...pending, id: randomUUID() }, succeeded];
    });
    const outcomes: StoreOutcome[] = await Promise.all(
      sent.map((record) => store.storeAccepted(record, eventOf(record), null)),
    );
    for (const [i, key] of keys.entries()) {
      const [first, copy, second] = outcomes.slice(3 * i, 3 * i + 3);
      assert.equal(first.outcome, 'accepted', key);
      assert.equal(copy.outcome, 'duplicate', key);
      assert.equal(second.outcome, 'accepted', key);
      assert.ok(first.outcome === 'accepted' && second.outcome === 'accepted');
      assert.deepEqual([first.previousStatus, second.previousStatus], [null, 'pending']);
      assertIncreasing([first.version, second.version], key);
      const [state] = await db.query<{ status: string; version: number }>(
        `SELECT status, version FROM transactions WHERE transaction_key = ?`,
        [key],
      );
      assert.deepEqual({ ...state }, { status: 'succeeded', version: second.version });
    }
    const [{ n }] = await db.query<{ n: number }>(`SELECT count(*) AS n FROM outbox`);
    assert.equal(Number(n), 40, 'one outbox row per transition');
  });

  it('a plan that fails rolls back only its own statements', () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const insert = (id: string) =>
      step(
        `INSERT INTO admin_audit (id, at, action, target, key_fingerprint, details) VALUES (?, ?, 'group', ?, 'test', '{}')`,
        [id, new Date().toISOString(), id],
      );
    const results = sql.sqliteGroup([
      function* () {
        yield insert(ids[0]);
        return 'a';
      },
      function* () {
        yield insert(ids[1]);
        throw new Error('refused after its insert');
      },
      function* () {
        yield insert(ids[2]);
        return 'c';
      },
    ]);
    assert.deepEqual(
      results.map((r) => (r.ok ? r.value : (r.error as Error).message)),
      ['a', 'refused after its insert', 'c'],
    );
    return db
      .query<{ target: string }>(
        `SELECT target FROM admin_audit WHERE action = 'group' ORDER BY target`,
      )
      .then((rows) =>
        assert.deepEqual(
          rows.map((r) => r.target),
          [ids[0], ids[2]].sort(),
        ),
      );
  });
});
