/**
 * State-migration fold benchmark: `npm run bench:fold` (prints figures, asserts nothing timed).
 *
 * Creates a PostgreSQL test database with every migration applied, fills `callbacks` with
 * FOLD_ROWS (default 1,500,000) accepted callbacks — three per transaction, `pending`, `succeeded`,
 * then a late `pending` — and runs the transaction-state migration's fold
 * (foldExistingCallbacks) over them, in this process, under the heap the npm script gives it
 * (`--max-old-space-size=64`, a third of the image's). Prints the time, callbacks per second,
 * the peak JavaScript heap and the resulting states and outcomes. The database is dropped after.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { foldExistingCallbacks } from '../src/persistence/migrations/1765000000000-transaction-states.js';
import { MIGRATIONS } from '../src/persistence/migrations/index.js';
import { createTestDatabase } from '../test/support/databases.js';

const ROWS = Number(process.env.FOLD_ROWS ?? 1_500_000);

async function main(): Promise<void> {
  const db = await createTestDatabase('postgres');
  const source = new DataSource({
    type: 'postgres',
    url: db.env.DATABASE_URL,
    migrations: MIGRATIONS,
  });
  await source.initialize();
  try {
    await source.runMigrations({ transaction: 'each' });
    const filled = performance.now();
    await source.query(
      `INSERT INTO callbacks (id, provider, account, transaction_key, status, event_id, outcome, source_ip,
                              method, path, headers, raw_body, raw_body_encoding, verification, received_at)
       SELECT gen_random_uuid()::text, 'nicepay', 'default', 'TX' || (g / 3),
              (ARRAY['pending', 'succeeded', 'pending'])[g % 3 + 1], gen_random_uuid()::text, 'accepted',
              '127.0.0.1', 'POST', '/callbacks/nicepay', '{}', repeat('x', 200), 'utf8', 'merchantToken',
              now() - interval '1 day' + g * interval '1 ms'
       FROM generate_series(0, $1::int - 1) g`,
      [ROWS],
    );
    process.stdout.write(
      `filled ${ROWS.toLocaleString('en')} callbacks in ${((performance.now() - filled) / 1000).toFixed(1)} s\n`,
    );
    let peak = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 20);
    const runner = source.createQueryRunner();
    const started = performance.now();
    try {
      await runner.startTransaction();
      await foldExistingCallbacks(runner, true);
      await runner.commitTransaction();
    } finally {
      clearInterval(sampler);
      await runner.release();
    }
    const seconds = (performance.now() - started) / 1000;
    const [states] = (await source.query(
      `SELECT count(*) AS n, sum(version) AS versions FROM transactions`,
    )) as Array<{ n: string; versions: string }>;
    const outcomes = (await source.query(
      `SELECT outcome, count(*) AS n FROM callbacks GROUP BY outcome ORDER BY outcome`,
    )) as Array<{ outcome: string; n: string }>;
    const heapLimit = (
      process.execArgv.find((arg) => arg.startsWith('--max-old-space-size')) ?? 'default heap'
    ).replace('--max-old-space-size=', 'max-old-space-size ');
    process.stdout.write(
      [
        `fold: ${seconds.toFixed(1)} s = ${Math.round(ROWS / seconds).toLocaleString('en')} callbacks/s`,
        `peak JavaScript heap: ${(peak / 1048576).toFixed(0)} MB (${heapLimit} MB)`,
        `states: ${Number(states.n).toLocaleString('en')} (versions ${Number(states.versions).toLocaleString('en')})`,
        `outcomes: ${outcomes.map((o) => `${o.outcome} ${Number(o.n).toLocaleString('en')}`).join(', ')}`,
        '',
      ].join('\n'),
    );
  } finally {
    await source.destroy();
    await db.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
