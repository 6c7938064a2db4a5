/**
 * Fills a PostgreSQL database with synthetic, realistic history (see history.ts):
 *
 *   npm run bench:fill -- --rows 10000000 [--database-url postgres://…/gw_history] [--ids v4|v7]
 *
 * Without --database-url it creates the database `gw_bench_history` on TEST_POSTGRES_URL's server
 * (dropped first if it exists). Figure about 4 KB of disk per row; `bench/data.ts` runs the
 * measurements on the result and `--drop` (or DROP DATABASE) removes it afterwards.
 */
import pg from 'pg';
import { uniqueExchange, deleteTopology } from '../test/support/broker.js';
import { POSTGRES_ADMIN_URL } from '../test/support/databases.js';
import { fillHistory, storage } from './history.js';

export const HISTORY_DATABASE = 'gw_bench_history';

export function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** The URL of a fresh, empty database `name` on the test PostgreSQL server. */
export async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  const rows = Number(argument('rows') ?? 1_000_000);
  const ids = (argument('ids') ?? 'v7') as 'v4' | 'v7';
  const databaseUrl = argument('database-url') ?? (await freshDatabase(HISTORY_DATABASE));
  const exchange = uniqueExchange();
  process.stdout.write(
    `Filling ${rows.toLocaleString('en')} callbacks (${ids} ids) into ${databaseUrl}\n`,
  );
  await fillHistory(
    { databaseUrl, rows, ids, log: (line) => process.stdout.write(`${line}\n`) },
    exchange,
  );
  await deleteTopology(exchange).catch(() => undefined);
  const figures = await storage(databaseUrl);
  process.stdout.write(
    `stored callbacks: ${figures.callbacks.toLocaleString('en')}; on disk: ${(figures.bytes / 2 ** 30).toFixed(2)} GiB; per callback: ${figures.perCallback.toFixed(0)} bytes\n`,
  );
  for (const t of figures.tables.slice(0, 12))
    process.stdout.write(
      `  ${t.name.padEnd(40)} ${(t.bytes / 2 ** 20).toFixed(0).padStart(8)} MiB\n`,
    );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
