/**
 * Flat with data: `npm run bench:data -- --rows 10000000` (or `--database-url` of a database filled
 * by `npm run bench:fill`). PostgreSQL only (the production database). Measures, in one run:
 * 1. storage per stored callback;
 * 2. durable NICEPAY callbacks/s on the filled database against an empty one, alternating twice;
 * 3. every admin search filter combination through the HTTP API (p50/p99), and its plan;
 * 4. each retention batch (nothing due, and a backlog of due rows) as the retention job sizes it,
 *    and its plan;
 * 5. 3 and 4 again during a publish backlog of BENCH_BACKLOG (100,000) unpublished events —
 *    the gateway runs with an unreachable broker, as in an outage.
 * Options: --keep keeps the filled database (default: dropped at the end when this script filled
 * it), --plans prints every EXPLAIN ANALYZE, --throughput-only stops after 2 (for experiments on a
 * database kept with --keep or filled by bench:fill), BENCH_DURATION_S (each throughput phase,
 * default 15), BENCH_ROUNDS (empty/filled alternations, default 2).
 */
import pg from 'pg';
import { cpus } from 'node:os';
import { deleteTopology, uniqueExchange } from '../test/support/broker.js';
import { createTestDatabase } from '../test/support/databases.js';
import * as currentAdmin from '../src/admin/admin.service.js';
import type { CallbackSearchQuery } from '../src/admin/admin.dto.js';
import * as currentRetention from '../src/retention/retention.service.js';
import { argument, dropDatabase, freshDatabase, HISTORY_DATABASE } from './fill-history.js';
import { fillHistory, storage } from './history.js';
import {
  backendCpu,
  type BenchGateway,
  cpuSeconds,
  drive,
  fmt,
  machineCpu,
  Ledger,
  percentile,
  type Phase,
  phaseTable,
  startGateway,
  table,
  workload,
} from './load.js';

const DURATION = Number(process.env.BENCH_DURATION_S ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 100_000);
const SEARCH_REPEATS = Number(process.env.BENCH_SEARCH_REPEATS ?? 20);
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const PLANS = process.argv.includes('--plans');
const DAY_MS = 86_400_000;
/** Keeps the gateway's own retention job out of the measurements (the bench runs the batches). */
const NO_RETENTION = { CALLBACK_RETENTION_DAYS: '3650', REJECTED_RETENTION_DAYS: '3650' };

// The statements of the build being measured (BENCH_MAIN_JS: another build's dist/src/main.js).
const buildModule = async <T>(relative: string, current: T): Promise<T> =>
  process.env.BENCH_MAIN_JS
    ? ((await import(process.env.BENCH_MAIN_JS.replace(/main\.js$/, relative))) as T)
    : current;
const { callbackSearchStatement } = await buildModule('admin/admin.service.js', currentAdmin);
const { ACCEPTED_PURGE, REJECTED_PURGE, RETENTION_BATCH, purgeInBatches } = (await buildModule(
  'retention/retention.service.js',
  currentRetention,
)) as Omit<typeof currentRetention, 'purgeInBatches'> & {
  purgeInBatches?: typeof currentRetention.purgeInBatches;
};

const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

async function explain(client: pg.Client, sql: string, params: unknown[]): Promise<string> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${numbered(sql)}`,
      params,
    );
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
  }
}

interface SearchCase {
  name: string;
  query: CallbackSearchQuery;
}

/** Filter combinations, with values taken from the data (rare, common, absent). */
async function searchCases(client: pg.Client): Promise<SearchCase[]> {
  const one = async (sql: string) => (await client.query(sql)).rows[0] as Record<string, string>;
  const sample = await one(
    `SELECT merchant_reference, transaction_key FROM callbacks WHERE outcome = 'accepted' AND provider = 'mcpayment'
     ORDER BY received_at DESC OFFSET 1000 LIMIT 1`,
  );
  const range = await one(`SELECT MIN(received_at) AS lo, MAX(received_at) AS hi FROM callbacks`);
  const lo = new Date(range.lo).getTime();
  const hi = new Date(range.hi).getTime();
  const mid = new Date((lo + hi) / 2);
  const day = { from: mid.toISOString(), to: new Date(mid.getTime() + DAY_MS).toISOString() };
  const week = {
    from: new Date(mid.getTime() - 7 * DAY_MS).toISOString(),
    to: mid.toISOString(),
  };
  const cases: SearchCase[] = [
    { name: 'no filter (newest page)', query: {} },
    { name: 'provider common (nicepay)', query: { provider: 'nicepay' } },
    { name: 'provider rare (ppob)', query: { provider: 'ppob' } },
    { name: 'provider absent', query: { provider: 'nosuchprovider' } },
    { name: 'status common (succeeded)', query: { status: 'succeeded' } },
    { name: 'status rare (reversed)', query: { status: 'reversed' } },
    { name: 'status absent', query: { status: 'nosuchstatus' } },
    { name: 'provider rare + status rare', query: { provider: 'ppob', status: 'reversed' } },
    { name: 'provider + status common', query: { provider: 'nicepay', status: 'succeeded' } },
    { name: 'outcome accepted', query: { outcome: 'accepted' } },
    { name: 'outcome rejected_auth', query: { outcome: 'rejected_auth' } },
    { name: 'outcome absent (rejected_address)', query: { outcome: 'rejected_address' } },
    { name: 'provider + outcome rejected', query: { provider: 'mcpayment', outcome: 'invalid' } },
    { name: 'status + outcome (no match)', query: { status: 'succeeded', outcome: 'invalid' } },
    { name: 'reference', query: { reference: sample.merchant_reference } },
    { name: 'provider transaction id', query: { providerTransactionId: sample.transaction_key } },
    { name: 'from/to one day', query: day },
    { name: 'provider rare + one week', query: { provider: 'ppob', ...week } },
    { name: 'status rare + one week', query: { status: 'reversed', ...week } },
    {
      name: 'provider + status + one day',
      query: { provider: 'nicepay', status: 'pending', ...day },
    },
    { name: 'outcome rejected + one day', query: { outcome: 'rejected_auth', ...day } },
  ];
  return cases;
}

interface SearchFigure {
  name: string;
  items: number;
  p50: number;
  p99: number;
  max: number;
}

/** Runs each case SEARCH_REPEATS times through the admin API (page 1, then page 2 by cursor). */
async function measureSearches(url: string, cases: SearchCase[]): Promise<SearchFigure[]> {
  const figures: SearchFigure[] = [];
  for (const c of cases) {
    const times: number[] = [];
    let items = 0;
    let cursor: string | null = null;
    for (let i = 0; i < SEARCH_REPEATS; i += 1) {
      const params = new URLSearchParams(c.query as Record<string, string>);
      // Every other request asks for the next page: the cursor form of the same query.
      if (i % 2 === 1 && cursor) params.set('cursor', cursor);
      const started = performance.now();
      const response = await fetch(`${url}/admin/callbacks?${params}`, {
        headers: { 'x-admin-key': ADMIN_KEY },
      });
      const body = (await response.json()) as { items?: unknown[]; nextCursor?: string | null };
      times.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`${c.name}: HTTP ${response.status}`);
      if (i === 0) {
        items = body.items?.length ?? 0;
        cursor = body.nextCursor ?? null;
      }
    }
    times.sort((a, b) => a - b);
    figures.push({
      name: c.name,
      items,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      max: times.at(-1)!,
    });
  }
  return figures;
}

interface RetentionFigure {
  name: string;
  batches: number;
  deleted: number;
  /** Smallest and largest batch size the run asked for. */
  sizes: [number, number];
  maxMs: number;
  meanMs: number;
}

type Batch = { size: number; deleted: number; ms: number };

/**
 * Runs up to `batches` retention batches of `statement` with `cutoff` the way the build's
 * retention job runs them (`purgeInBatches`: batch sizes from the time budget), timing each. A
 * build without it ran fixed batches of RETENTION_BATCH rows, and so does this then.
 */
async function measureRetention(
  client: pg.Client,
  name: string,
  statement: string,
  cutoff: Date,
  batches: number,
): Promise<RetentionFigure> {
  const done: Batch[] = [];
  const query = async (sql: string, params: unknown[]) =>
    (await client.query(numbered(sql), params)).rows;
  if (purgeInBatches) {
    await purgeInBatches(query, statement, {
      before: cutoff.toISOString(),
      maxBatches: batches,
      onBatch: (batch) => done.push(batch),
    });
  } else {
    for (let i = 0; i < batches; i += 1) {
      const started = performance.now();
      const rows = await query(statement, [cutoff.toISOString(), RETENTION_BATCH]);
      done.push({ size: RETENTION_BATCH, deleted: rows.length, ms: performance.now() - started });
      if (rows.length < RETENTION_BATCH) break;
    }
  }
  const sizes = done.map((batch) => batch.size);
  return {
    name,
    batches: done.length,
    deleted: done.reduce((sum, batch) => sum + batch.deleted, 0),
    sizes: [Math.min(...sizes), Math.max(...sizes)],
    maxMs: Math.max(...done.map((batch) => batch.ms)),
    meanMs: done.reduce((sum, batch) => sum + batch.ms, 0) / done.length,
  };
}

async function retentionFigures(client: pg.Client, label: string): Promise<RetentionFigure[]> {
  const now = Date.now();
  const { rows } = await client.query<{ accepted: Date; rejected: Date }>(
    `SELECT (SELECT MIN(received_at) FROM callbacks WHERE outcome = 'accepted') AS accepted,
            (SELECT MIN(received_at) FROM callbacks WHERE outcome <> 'accepted') AS rejected`,
  );
  return [
    await measureRetention(
      client,
      `${label}accepted, nothing due (90 days)`,
      ACCEPTED_PURGE,
      new Date(now - 90 * DAY_MS),
      1,
    ),
    await measureRetention(
      client,
      `${label}rejected, nothing due (14 days)`,
      REJECTED_PURGE,
      new Date(now - 14 * DAY_MS),
      1,
    ),
    // A few hours past the oldest row: several batches due.
    await measureRetention(
      client,
      `${label}accepted, rows due`,
      ACCEPTED_PURGE,
      new Date(rows[0].accepted.getTime() + 6 * 3_600_000),
      10,
    ),
    await measureRetention(
      client,
      `${label}rejected, rows due`,
      REJECTED_PURGE,
      new Date(rows[0].rejected.getTime() + 6 * 3_600_000),
      10,
    ),
  ];
}

interface Costs {
  gatewayCpu: number;
  databaseCpu: number;
  machine: { busy: number; total: number };
  walBytes: number;
  fullPageImages: number;
  checkpoints: number;
}

/** Counters read before and after a throughput phase: where its time went. */
async function costs(client: pg.Client, gateway: BenchGateway, database: string): Promise<Costs> {
  const {
    rows: [wal],
  } = await client.query<{ bytes: string; fpi: string; checkpoints: string }>(
    `SELECT wal_bytes AS bytes, wal_fpi AS fpi,
            (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS checkpoints
     FROM pg_stat_wal`,
  );
  return {
    gatewayCpu: cpuSeconds(gateway.child.pid!),
    databaseCpu: await backendCpu(
      async (sql, params) => (await client.query<{ pid: number }>(sql, params)).rows,
      database,
    ),
    machine: machineCpu(),
    walBytes: Number(wal.bytes),
    fullPageImages: Number(wal.fpi),
    checkpoints: Number(wal.checkpoints),
  };
}

function costRow(phase: Phase, before: Costs, after: Costs): string[] {
  const n = phase.ok || 1;
  const busy =
    (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
  return [
    phase.name,
    fmt(((after.gatewayCpu - before.gatewayCpu) * 1000) / n, 2),
    fmt(((after.databaseCpu - before.databaseCpu) * 1000) / n, 2),
    `${(busy * 100).toFixed(0)}%`,
    fmt((after.walBytes - before.walBytes) / n, 0),
    fmt((after.fullPageImages - before.fullPageImages) / n, 2),
    String(after.checkpoints - before.checkpoints),
  ];
}

async function main(): Promise<void> {
  const out = (text: string) => process.stdout.write(text);
  const given = argument('database-url');
  const rows = Number(argument('rows') ?? 1_000_000);
  const databaseUrl = given ?? (await freshDatabase(HISTORY_DATABASE));
  const exchange = uniqueExchange();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows: count } = await client
    .query<{ n: string }>(
      `SELECT CASE WHEN to_regclass('callbacks') IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM callbacks) END AS n`,
    )
    .catch(() => ({ rows: [{ n: '0' }] }));
  if (Number(count[0].n) < 1000) {
    out(`Filling ${rows.toLocaleString('en')} synthetic callbacks…\n`);
    await fillHistory({ databaseUrl, rows, ids: 'v7', log: (l) => out(`${l}\n`) }, exchange);
  }
  const figures = await storage(databaseUrl);
  const report: string[] = [];
  const plans: string[] = [];
  report.push(
    `stored callbacks: ${figures.callbacks.toLocaleString('en')}; on disk ${(figures.bytes / 2 ** 30).toFixed(2)} GiB = ${figures.perCallback.toFixed(0)} bytes per stored callback (tables, TOAST, indexes)\n`,
  );
  report.push(
    table(
      ['relation', 'MiB', 'bytes per callback'],
      figures.tables
        .filter((t) => t.bytes > 1 << 20)
        .map((t) => [
          t.name,
          (t.bytes / 2 ** 20).toFixed(0),
          (t.bytes / figures.callbacks).toFixed(0),
        ]),
    ),
  );

  // 2. Throughput: empty and filled, alternating, same workload shape.
  const phases: Phase[] = [];
  const costRows: string[][] = [];
  const empty = await createTestDatabase('postgres');
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const [label, env] of [
      ['empty database', empty.env],
      [`${figures.callbacks.toLocaleString('en')} stored`, { DATABASE_URL: databaseUrl }],
    ] as const) {
      const gateway = await startGateway({ ...env, ...NO_RETENTION, EVENTS_EXCHANGE: exchange });
      const ledger = new Ledger();
      await drive(gateway.url, 'warm-up', workload(3000, ['nicepay']), ledger, { duration: 3 });
      const database = new URL(env.DATABASE_URL).pathname.slice(1);
      const before = await costs(client, gateway, database);
      const phase = await drive(
        gateway.url,
        `NICEPAY max, ${label} (round ${round})`,
        workload(DURATION * 5000, ['nicepay']),
        ledger,
        { duration: DURATION },
      );
      const after = await costs(client, gateway, database);
      phases.push(phase);
      costRows.push(costRow(phase, before, after));
      await gateway.stop();
    }
  }
  await empty.drop();
  const rate = (filled: boolean) =>
    phases.filter((_, i) => i % 2 === (filled ? 1 : 0)).reduce((sum, p) => sum + p.perSecond, 0) /
    ROUNDS;
  report.push(`\n${phaseTable(phases)}`);
  report.push(
    `\nwhere the time goes, per callback of each phase (WAL and checkpoints: the whole server)\n${table(
      [
        'phase',
        'gateway CPU ms',
        'PostgreSQL CPU ms',
        'machine busy',
        'WAL bytes',
        'full-page images',
        'checkpoints',
      ],
      costRows,
    )}`,
  );
  const ratio = rate(true) / rate(false);
  report.push(
    `durable throughput with ${figures.callbacks.toLocaleString('en')} stored: ${fmt(ratio, 2)} of the empty database's (mean of ${ROUNDS} rounds; target within 10%: ${ratio >= 0.9 ? 'met' : 'NOT met'})\n`,
  );

  // 3–5. Admin search and retention, without and with a publish backlog.
  const searchAndRetention = !process.argv.includes('--throughput-only');
  if (searchAndRetention) await client.query('ANALYZE callbacks');
  if (searchAndRetention) await client.query('ANALYZE outbox');
  const cases = searchAndRetention ? await searchCases(client) : [];
  for (const backlog of searchAndRetention ? [false, true] : []) {
    const label = backlog ? `during a ${BACKLOG.toLocaleString('en')}-event publish backlog: ` : '';
    if (backlog) {
      await client.query(
        `UPDATE outbox SET published_at = NULL WHERE event_id IN (
           SELECT event_id FROM outbox ORDER BY created_at DESC LIMIT $1)`,
        [BACKLOG],
      );
      await client.query('ANALYZE outbox');
    }
    const gateway = await startGateway({
      DATABASE_URL: databaseUrl,
      ...NO_RETENTION,
      ADMIN_API_KEY: ADMIN_KEY,
      EVENTS_EXCHANGE: exchange,
      // The broker outage that makes a backlog: nothing is published while this runs.
      ...(backlog ? { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' } : {}),
    });
    const searches = await measureSearches(gateway.url, cases);
    await gateway.stop();
    // The server's own time for the same statement (EXPLAIN ANALYZE, warm): free of HTTP and of
    // the load of a shared machine.
    const serverMs: number[] = [];
    for (const c of cases) {
      const { sql, params } = callbackSearchStatement(c.query);
      const plan = await explain(client, sql, params);
      serverMs.push(Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN));
      plans.push(`-- admin search ${label}${c.name}\n${plan}\n`);
    }
    report.push(
      `\nadmin search ${label}(${SEARCH_REPEATS} requests each through HTTP, pages 1 and 2; SQL = execution time of the statement in PostgreSQL)\n`,
    );
    report.push(
      table(
        ['filters', 'items', 'p50 ms', 'p99 ms', 'max ms', 'SQL ms', 'p99 ≤ 100 ms'],
        searches.map((s, i) => [
          s.name,
          String(s.items),
          fmt(s.p50),
          fmt(s.p99),
          fmt(s.max),
          fmt(serverMs[i], 2),
          s.p99 <= 100 ? 'yes' : 'NO',
        ]),
      ),
    );
    const retention = await retentionFigures(client, label);
    report.push(
      `\nretention batches ${label}(${purgeInBatches ? 'sized as the retention job sizes them' : `${RETENTION_BATCH} rows each`})\n`,
    );
    report.push(
      table(
        ['statement', 'batches', 'rows per batch', 'deleted', 'mean ms', 'max ms', '≤ 100 ms'],
        retention.map((r) => [
          r.name,
          String(r.batches),
          r.sizes[0] === r.sizes[1] ? String(r.sizes[0]) : `${r.sizes[0]}–${r.sizes[1]}`,
          String(r.deleted),
          fmt(r.meanMs),
          fmt(r.maxMs),
          r.maxMs <= 100 ? 'yes' : 'NO',
        ]),
      ),
    );
    const cutoff = (days: number) => [
      new Date(Date.now() - days * DAY_MS).toISOString(),
      RETENTION_BATCH,
    ];
    plans.push(
      `-- retention ${label}accepted (90 days)\n${await explain(client, ACCEPTED_PURGE, cutoff(90))}\n`,
    );
    plans.push(
      `-- retention ${label}rejected (14 days)\n${await explain(client, REJECTED_PURGE, cutoff(14))}\n`,
    );
    if (backlog) {
      await client.query(
        `UPDATE outbox SET published_at = created_at + interval '40 milliseconds' WHERE published_at IS NULL`,
      );
    }
  }

  out(
    `\nFlat with data — ${new Date().toISOString()}; ${cpus().length} cores, PostgreSQL on loopback\n\n`,
  );
  out(report.join(''));
  if (PLANS) out(`\nPlans (EXPLAIN ANALYZE, BUFFERS)\n\n${plans.join('\n')}`);
  await client.end();
  await deleteTopology(exchange).catch(() => undefined);
  if (!given && !process.argv.includes('--keep')) await dropDatabase(HISTORY_DATABASE);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
