import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { SqlDialect } from '../../src/persistence/sql-dialect.js';
import { openPostgresSource } from '../support/databases.js';

/**
 * The hot path's batched writes run as named prepared statements on PostgreSQL (one parse per
 * pooled connection), or unnamed with DATABASE_PREPARED_STATEMENTS=false. One pooled connection,
 * so pg_prepared_statements (per session) shows what the dialect left on it.
 */
describe('named prepared statements (postgres)', () => {
  let opened: Awaited<ReturnType<typeof openPostgresSource>>;
  let source: DataSource;

  before(async () => {
    opened = await openPostgresSource(false);
    source = opened.source;
    await source.query(`CREATE TABLE items (id int PRIMARY KEY, label text)`);
  });
  after(() => opened.close());

  const prepared = async (sql: SqlDialect) =>
    sql.query<{ name: string; statement: string }>(
      `SELECT name, statement FROM pg_prepared_statements ORDER BY name`,
    );
  const insert = `INSERT INTO items (id, label) VALUES (?, ?), (?, ?) ON CONFLICT (id) DO NOTHING RETURNING id`;

  it('prepares each text once per connection under a name derived from it, and answers like query', async () => {
    const sql = new SqlDialect(source);
    const first = await sql.queryPrepared<{ id: number }>(insert, [1, 'a', 2, 'b']);
    const again = await sql.queryPrepared<{ id: number }>(insert, [2, 'b', 3, 'c']);
    assert.deepEqual(first.map((r) => r.id).sort(), [1, 2]);
    assert.deepEqual(
      again.map((r) => r.id),
      [3],
      'the copy of 2 is not inserted twice',
    );
    const statements = await prepared(sql);
    assert.equal(statements.length, 1, JSON.stringify(statements));
    assert.match(statements[0].name, /^gw_[0-9a-f]{32}$/);
    assert.match(statements[0].statement, /VALUES \(\$1, \$2\), \(\$3, \$4\)/);
    // Another dialect on the same pool uses the same name for the same text: no clash.
    await new SqlDialect(source).queryPrepared(insert, [4, 'd', 5, 'e']);
    assert.equal((await prepared(sql)).length, 1);
    const labels = await sql.query<{ label: string }>(`SELECT label FROM items ORDER BY id`);
    assert.deepEqual(
      labels.map((r) => r.label),
      ['a', 'b', 'c', 'd', 'e'],
    );
  });

  it('a failing statement rejects with the database error and leaves the connection usable', async () => {
    const sql = new SqlDialect(source);
    await assert.rejects(
      sql.queryPrepared(`INSERT INTO items (id, label) VALUES (?, ?)`, [1, 'again']),
      (error: Error & { code?: string }) => error.code === '23505',
    );
    assert.equal((await sql.queryPrepared(`SELECT count(*)::int AS n FROM items`, []))[0].n, 5);
  });

  it('DATABASE_PREPARED_STATEMENTS=false sends them unnamed', async () => {
    await source.query('DEALLOCATE ALL');
    const sql = new SqlDialect(source, false);
    await sql.queryPrepared(`DELETE FROM items WHERE id = ? RETURNING id`, [5]);
    assert.deepEqual(await prepared(sql), []);
  });
});
