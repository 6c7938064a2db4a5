import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/persistence/database.options.js';

export type DatabaseKind = 'postgres' | 'sqlite';

/** The PostgreSQL server the tests use; a fresh database is created on it per test suite. */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  kind: DatabaseKind;
  env: Record<string, string>;
  /** Runs SQL against the test database (for assertions). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Waits (up to `timeoutMs`) until no backend is connected to database `name`. */
async function untilNoBackends(name: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1`,
        [name],
      );
      if (Number(rows[0].n) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await client.end();
  }
}

/** A brand-new, empty database: its own PostgreSQL database, or its own SQLite file. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const name = `gw_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    return {
      kind,
      env: { DATABASE_URL: url.toString() },
      query: async (sql, params) => (await pool.query(sql, params)).rows,
      drop: async () => {
        await pool.end();
        // A gateway closed just before may still be giving its connections back: let it, so the
        // FORCE below does not terminate a connection whose owner would report it as an error.
        await untilNoBackends(name, 3_000);
        await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  const path = join(dir, 'gateway.sqlite');
  const { default: Database } = await import('better-sqlite3');
  let db: InstanceType<typeof Database> | null = null;
  const open = () => {
    if (!db) {
      db = new Database(path, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
    }
    return db;
  };
  return {
    kind,
    env: { SQLITE_PATH: path },
    query: async (sql, params = []) => {
      const statement = open().prepare(sql.replace(/\$\d+/g, '?'));
      return (
        statement.reader ? statement.all(...params) : (statement.run(...params), [])
      ) as never;
    },
    drop: async () => {
      db?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A one-connection TypeORM data source on a fresh PostgreSQL test database (the gateway's own
 * options), with or without the migrations; `close` destroys it and drops the database.
 */
export async function openPostgresSource(
  runMigrations: boolean,
): Promise<{ db: TestDatabase; source: DataSource; close(): Promise<void> }> {
  const db = await createTestDatabase('postgres');
  const source = new DataSource(
    dataSourceOptions({ type: 'postgres', url: db.env.DATABASE_URL, poolSize: 1, runMigrations }),
  );
  await source.initialize();
  return {
    db,
    source,
    close: async () => {
      await source.destroy();
      await db.drop();
    },
  };
}
