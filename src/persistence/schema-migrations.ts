import { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config/gateway-config.js';
import { dataSourceOptions } from './database.options.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * The PostgreSQL advisory lock key that serializes migration runners (init containers of several
 * pods, a pre-deploy step, a gateway with DATABASE_MIGRATIONS_RUN=true): the first one applies the
 * pending migrations, the others wait for it, then find nothing left to do. 64-bit; the bytes spell
 * "gw-migr" so it is recognisable in pg_locks (classid 0x67772d6d, objid 0x69677200).
 */
export const MIGRATION_LOCK_KEY = 0x67772d6d69677200n;

/** The migration this build expects as the newest applied one (the last of MIGRATIONS). */
export function expectedMigration(): string {
  const newest = MIGRATIONS[MIGRATIONS.length - 1];
  return (new newest() as { name?: string }).name ?? newest.name;
}

/**
 * Applies pending migrations on a DataSource of its own (no statement timeout: a migration may
 * rewrite a large table), holding the advisory lock on PostgreSQL for the whole run. Returns the
 * names of the migrations it applied (none when another runner had applied them).
 */
export async function runMigrationsGuarded(config: GatewayConfig['database']): Promise<string[]> {
  const dataSource = new DataSource({
    ...dataSourceOptions(config, 'migrate'),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    if (dataSource.options.type !== 'postgres') {
      return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
    }
    // The lock is held by this session (one pooled connection kept aside) while the migrations run
    // on others; a runner that dies releases it with its connection.
    const lock = dataSource.createQueryRunner();
    await lock.connect();
    try {
      await lock.query(`SELECT pg_advisory_lock($1)`, [MIGRATION_LOCK_KEY.toString()]);
      try {
        return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
      } finally {
        await lock.query(`SELECT pg_advisory_unlock($1)`, [MIGRATION_LOCK_KEY.toString()]);
      }
    } finally {
      await lock.release();
    }
  } finally {
    await dataSource.destroy();
  }
}

/** What readiness needs to know of the schema: null when it is at this build's version. */
export async function schemaProblem(
  query: (sql: string, params: unknown[]) => Promise<unknown[]>,
): Promise<string | null> {
  const expected = expectedMigration();
  let rows: Array<{ name?: string }>;
  try {
    rows = (await query(
      `SELECT name FROM migrations ORDER BY timestamp DESC LIMIT 1`,
      [],
    )) as Array<{
      name?: string;
    }>;
  } catch (error) {
    if (/migrations/.test((error as Error).message) && /exist/.test((error as Error).message)) {
      return `database has no schema (expected migration ${expected}); run the migrations (node dist/src/migrate.js)`;
    }
    throw error;
  }
  const newest = rows[0]?.name ?? null;
  if (newest === null) {
    return `database has no schema (expected migration ${expected}); run the migrations (node dist/src/migrate.js)`;
  }
  if (newest === expected) return null;
  const [applied] = (await query(`SELECT 1 AS applied FROM migrations WHERE name = ?`, [
    expected,
  ])) as unknown[];
  // A newer release migrated ahead (expand, then contract): this build still works on it.
  if (applied) return null;
  return `schema at ${newest}, this build expects ${expected}; run the migrations (node dist/src/migrate.js)`;
}
