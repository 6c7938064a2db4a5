import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import type { GatewayConfig } from '../../src/config/gateway-config.js';
import { dataSourceOptions } from '../../src/persistence/database.options.js';
import { MIGRATIONS } from '../../src/persistence/migrations/index.js';
import {
  foldExistingCallbacks,
  TransactionStates1765000000000,
} from '../../src/persistence/migrations/1765000000000-transaction-states.js';
import { createTestDatabase, type DatabaseKind } from '../support/databases.js';

const BEFORE = MIGRATIONS.slice(0, MIGRATIONS.indexOf(TransactionStates1765000000000));

function config(kind: DatabaseKind, env: Record<string, string>): GatewayConfig['database'] {
  return kind === 'postgres'
    ? { type: 'postgres', url: env.DATABASE_URL, poolSize: 2, runMigrations: false }
    : { type: 'better-sqlite3', path: env.SQLITE_PATH, runMigrations: false };
}

async function migrated(
  kind: DatabaseKind,
  env: Record<string, string>,
  migrations: typeof MIGRATIONS,
): Promise<DataSource> {
  const source = new DataSource({ ...dataSourceOptions(config(kind, env)), migrations });
  await source.initialize();
  await source.runMigrations({ transaction: 'each' });
  return source;
}

for (const kind of ['postgres', 'sqlite'] as const) {
  describe(`the transaction-state migration on ${kind}`, () => {
    it('folds the callbacks stored before it into states, in arrival order; non-transitions become superseded', async () => {
      const db = await createTestDatabase(kind);
      try {
        const old = await migrated(kind, db.env, BEFORE);
        const p = (n: number) => (kind === 'postgres' ? `$${n}` : '?');
        const ids: Record<string, string> = {};
        const insert = async (
          name: string,
          tx: string | null,
          status: string | null,
          at: string,
          outcome = 'accepted',
        ) => {
          ids[name] = randomUUID();
          await old.query(
            `INSERT INTO callbacks (id, provider, account, transaction_key, status, event_id, outcome, source_ip,
                                    method, path, headers, raw_body, raw_body_encoding, verification, received_at)
             VALUES (${[1, 2, 3, 4, 5, 6, 7].map(p).join(', ')}, '127.0.0.1', 'GET', '/callbacks/ppob/:token', '{}',
                     '', 'utf8', 'URL token matched', ${p(8)})`,
            [ids[name], 'ppob', 'default', tx, status, tx ? randomUUID() : null, outcome, at],
          );
        };
        await insert('a1', 'TXA', 'pending', '2025-11-21T05:00:00.000Z');
        await insert('a2', 'TXA', 'succeeded', '2025-11-21T05:01:00.000Z');
        await insert('b1', 'TXB', 'succeeded', '2025-11-21T05:00:00.000Z');
        await insert('b2', 'TXB', 'pending', '2025-11-21T05:02:00.000Z');
        await insert('b3', 'TXB', 'refunded', '2025-11-21T05:03:00.000Z');
        await insert('c1', 'TXC', 'failed', '2025-11-21T05:00:00.000Z');
        await insert('x', null, null, '2025-11-21T05:00:00.000Z', 'rejected_auth');
        await old.destroy();

        const current = await migrated(kind, db.env, MIGRATIONS);
        try {
          const states = (await current.query(
            `SELECT transaction_key, status, previous_status, version, first_callback_id, last_callback_id
             FROM transactions ORDER BY transaction_key`,
          )) as Array<Record<string, unknown>>;
          assert.deepEqual(
            states.map((s) => [
              s.transaction_key,
              s.status,
              s.previous_status,
              Number(s.version),
              s.first_callback_id,
              s.last_callback_id,
            ]),
            [
              ['TXA', 'succeeded', 'pending', 2, ids.a1, ids.a2],
              ['TXB', 'refunded', 'succeeded', 2, ids.b1, ids.b3],
              ['TXC', 'failed', null, 1, ids.c1, ids.c1],
            ],
          );
          const outcomes = (await current.query(`SELECT id, outcome FROM callbacks`)) as Array<{
            id: string;
            outcome: string;
          }>;
          const outcome = (name: string) => outcomes.find((o) => o.id === ids[name])?.outcome;
          assert.deepEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'c1', 'x'].map(outcome), [
            'accepted',
            'accepted',
            'accepted',
            'superseded',
            'accepted',
            'accepted',
            'rejected_auth',
          ]);
          // An outbox row may now stand for a state observed without a callback.
          await current.query(
            `INSERT INTO outbox (event_id, callback_id, provider, event_type, routing_key, payload, created_at)
             VALUES (${[1, 2, 3, 4, 5, 6].map(p).join(', ')}, ${p(7)})`,
            [
              randomUUID(),
              null,
              'ppob',
              'topup.succeeded',
              'topup.succeeded.ppob',
              '{}',
              new Date().toISOString(),
            ],
          );
        } finally {
          await current.destroy();
        }
      } finally {
        await db.drop();
      }
    });

    it('folds page by page with the same result, also when a transaction spans pages and arrival times differ by microseconds', async () => {
      const db = await createTestDatabase(kind);
      const source = await migrated(kind, db.env, MIGRATIONS);
      try {
        const p = (n: number) => (kind === 'postgres' ? `$${n}` : '?');
        const statuses = ['pending', 'succeeded', 'failed', 'expired', 'refunded', 'pending'];
        let seed = 7;
        const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
        for (let i = 0; i < 60; i += 1) {
          // 9 transactions, several callbacks each, some in the same millisecond.
          const micros = String(100000 + next(5) * 7).padStart(6, '0');
          const at =
            kind === 'postgres'
              ? `2025-11-21T05:00:0${next(3)}.${micros}Z`
              : `2025-11-21T05:00:0${next(3)}.${micros.slice(0, 3)}Z`;
          await source.query(
            `INSERT INTO callbacks (id, provider, account, transaction_key, status, event_id, outcome, source_ip,
                                    method, path, headers, raw_body, raw_body_encoding, verification, received_at)
             VALUES (${[1, 2, 3, 4, 5, 6].map(p).join(', ')}, 'accepted', '127.0.0.1', 'GET', '/callbacks/ppob/:token',
                     '{}', '', 'utf8', 'URL token matched', ${p(7)})`,
            [randomUUID(), 'ppob', 'default', `TX${next(9)}`, statuses[next(6)], randomUUID(), at],
          );
        }
        const fold = async (pageSize: number) => {
          await source.query(`DELETE FROM transactions`);
          await source.query(
            `UPDATE callbacks SET outcome = 'accepted' WHERE outcome = 'superseded'`,
          );
          const runner = source.createQueryRunner();
          try {
            await foldExistingCallbacks(runner, kind === 'postgres', pageSize);
          } finally {
            await runner.release();
          }
          const states = await source.query(
            `SELECT transaction_key, status, previous_status, version, first_callback_id, last_callback_id
             FROM transactions ORDER BY transaction_key`,
          );
          const outcomes = await source.query(`SELECT id, outcome FROM callbacks ORDER BY id`);
          return JSON.stringify({ states, outcomes });
        };
        const whole = await fold(10_000);
        assert.match(whole, /superseded/, 'the sample holds non-transitions');
        for (const pageSize of [1, 2, 3, 7])
          assert.equal(await fold(pageSize), whole, `page ${pageSize}`);
      } finally {
        await source.destroy();
        await db.drop();
      }
    });
  });
}
