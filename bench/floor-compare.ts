/**
 * The gateway against the plain-Node floor (bench/floor.ts, issue 28): `npm run bench:floor`.
 *
 * Both run as child processes with the image's NODE_OPTIONS, each round on a fresh PostgreSQL
 * database and a fresh exchange with a consumer bound to it, and take the same client workload:
 * bench/load.ts drive() with BENCH_CONNECTIONS (default here 64) keep-alive connections, unique
 * NICEPAY transactions signed with the test credentials (about 10% exact re-sends), the gateway
 * with NICEPAY_VERIFY=off and, unless BENCH_VERIFICATION=0, with NICEPAY_VERIFY=inquiry against
 * the provider sandbox (callbacks stored as hints). Floor and gateways alternate over
 * BENCH_FLOOR_ROUNDS rounds (default 3) of BENCH_DURATION_S seconds (default 20) after a 3 s
 * warm-up. `npm run bench` runs the same comparison, shorter and without the counters below.
 * BENCH_FLOOR_COUNTERS=0 leaves out the commit, row and WAL counters (and their 2 × 11 s waits).
 * BENCH_FLOOR_RATE drives every phase at that fixed rate instead of the maximum (CPU per callback
 * compares best that way on a busy machine). BENCH_BUILDS=<label>=<dist/src/main.js>,… compares
 * builds of the gateway (verification off) with each other and the floor, alternating.
 * BENCH_FLOOR_STEPS=1 adds the floor with each of the gateway's steps (FLOOR_STEPS) to the rounds.
 *
 * Per system and round: acknowledged callbacks/s; CPU per callback of the server process
 * (/proc/<pid>/stat) and of the PostgreSQL backends serving it (bench/load.ts backendCpu), over
 * the phase and until every acknowledged event reached the consumer; and, from a quiet start to a
 * quiet end, PostgreSQL commits (pg_stat_database.xact_commit: pg_stat_statements is not assumed
 * to be preloaded), rows written (tup_inserted + tup_updated + tup_deleted) and WAL bytes
 * (pg_current_wal_lsn, whole cluster) per callback. The floor also reports the statements it sent.
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { NicepaySandbox } from '../src/providers/nicepay/nicepay.sandbox.js';
import { AMQP_URL, deleteTopology, sleep, uniqueExchange } from '../test/support/broker.js';
import { PROVIDER_ENV } from '../test/support/credentials.js';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import { startTestSandbox, type TestSandbox } from '../test/support/sandbox.js';
import { Consumer } from './consumer.js';
import { startFloor } from './floor.js';
import {
  backendCpu,
  cpuSeconds,
  drive,
  fmt,
  Ledger,
  type Phase,
  SHIPPED_NODE_OPTIONS,
  startGateway,
  table,
  workload,
} from './load.js';

/** PostgreSQL flushes an idle backend's statistics after 10 s (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_000;
const nicepay = ['nicepay'] as const;

/**
 * What is measured: the floor, the gateway with NICEPAY_VERIFY=off, or with NICEPAY_VERIFY=inquiry
 * (every NICEPAY callback a hint stored as `verifying`, its transaction scheduled for a status
 * inquiry to the provider sandbox; the floor does the same durable work either way).
 */
export type FloorSystem =
  | 'floor'
  | 'gateway'
  | 'gateway, verification on'
  | keyof typeof FLOOR_STEPS
  /** Another build of the gateway, verification off: `gateway@<label>`, see FloorOptions.builds. */
  | `gateway@${string}`;

/**
 * The floor with the gateway's work added step by step (bench/floor.ts flags), to cost each step
 * on the floor: BENCH_FLOOR_STEPS=1 npm run bench:floor.
 */
export const FLOOR_STEPS = {
  'floor + state row': { FLOOR_STATE: '1' },
  'floor + log line': { FLOOR_LOG: '1' },
  'floor + metrics': { FLOOR_METRICS: '1' },
  'floor + validation': { FLOOR_VALIDATE: '1' },
  'floor + all four': { FLOOR_STATE: '1', FLOOR_LOG: '1', FLOOR_METRICS: '1', FLOOR_VALIDATE: '1' },
} as const;

export interface FloorOptions {
  duration: number;
  connections: number;
  /**
   * Commits, rows and WAL per callback: each phase then waits for PostgreSQL's idle statistics
   * flush before and after (2 × 11 s). `npm run bench` leaves them out to stay short.
   */
  counters: boolean;
  /**
   * A fixed rate (callbacks/s, all connections together) instead of the maximum: CPU per callback
   * then compares like with like on a machine busy with other work (batch sizes stay alike).
   */
  rate?: number;
  /** The dist/src/main.js of each `gateway@<label>` system. */
  builds?: Record<string, string>;
}

export interface FloorFigures {
  phase: Phase;
  processMs: number;
  databaseMs: number;
  commits?: number;
  rows?: number;
  walBytes?: number;
  /** The floor's own count of statements sent; undefined for the gateway. */
  statements?: number;
  /** Acknowledged callbacks not stored (verification on) or whose event never arrived (off). */
  lost: number;
  repeats: number;
}

interface DatabaseCounters {
  commits: number;
  rows: number;
  lsn: string;
}

async function counters(db: TestDatabase, database: string): Promise<DatabaseCounters> {
  const [row] = await db.query<{ commits: string; rows: string; lsn: string }>(
    `SELECT xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS rows,
            pg_current_wal_lsn()::text AS lsn
       FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  return { commits: Number(row.commits), rows: Number(row.rows), lsn: row.lsn };
}

/** One phase of `system` on a fresh database and exchange. */
export async function measureSystem(
  system: FloorSystem,
  options: FloorOptions,
): Promise<FloorFigures> {
  const verifying = system === 'gateway, verification on';
  // Unique transactions for 10,000/s (or the fixed rate): a phase that ran out would re-send them
  // as duplicates.
  const list = workload(options.duration * (options.rate ?? 10_000) + 1000, nicepay);
  const db = await createTestDatabase('postgres');
  const database = new URL(db.env.DATABASE_URL).pathname.slice(1);
  const exchange = uniqueExchange();
  const consumer = await Consumer.bind(exchange);
  const env = { ...db.env, EVENTS_EXCHANGE: exchange };
  let sandbox: TestSandbox | undefined;
  const steps = system in FLOOR_STEPS ? FLOOR_STEPS[system as keyof typeof FLOOR_STEPS] : {};
  const floor =
    system === 'floor' || system in FLOOR_STEPS
      ? await startFloor(
          { ...PROVIDER_ENV, ...env, AMQP_URL, DATABASE_POOL_SIZE: '20', ...steps },
          SHIPPED_NODE_OPTIONS,
        )
      : null;
  if (verifying) sandbox = await startTestSandbox();
  const build = system.startsWith('gateway@') ? options.builds?.[system.slice(8)] : undefined;
  if (system.startsWith('gateway@') && !build) throw new Error(`no build for ${system}`);
  const server = floor ?? (await startGateway({ ...env, ...sandbox?.env }, build));
  const warmList = workload(3000, nicepay);
  if (sandbox) {
    // The sandbox knows every transaction, so each inquiry gets a complete answer, as in production.
    sandbox.sandbox.setGatewayUrl(server.url);
    const provider = sandbox.sandbox.provider<NicepaySandbox>('nicepay');
    for (const callback of [...warmList, ...list]) provider.register(callback);
  }
  const pid = server.child.pid!;
  const ledger = new Ledger();
  const connections = { connections: options.connections };
  await drive(server.url, 'warm-up', warmList, ledger, { ...connections, duration: 3 });
  if (!verifying) await consumer.drain(ledger);
  if (options.counters) await sleep(STATS_SETTLE_MS);

  const backends = () => backendCpu((sql, params) => db.query(sql, params), database);
  const statements0 = (await floor?.stats())?.statements ?? 0;
  const before = options.counters ? await counters(db, database) : undefined;
  const process0 = cpuSeconds(pid);
  const database0 = await backends();
  const phase = await drive(
    server.url,
    `${system} NICEPAY ${options.rate ? `${options.rate}/s` : 'max'}`,
    list,
    ledger,
    { ...connections, duration: options.duration, overallRate: options.rate },
  );
  // Verification off: until every acknowledged event reached the consumer, so publishing and
  // marking are counted. On: the events wait for their inquiry (VERIFY_RATE_PER_SECOND, 50 per
  // account by default); what is compared is the durable work before the ack.
  if (!verifying) await consumer.drain(ledger);
  const processCpu = cpuSeconds(pid) - process0;
  const databaseCpu = (await backends()) - database0;
  const statements = floor ? (await floor.stats()).statements - statements0 : undefined;
  let after: DatabaseCounters | undefined;
  let wal: number | undefined;
  if (before) {
    await sleep(STATS_SETTLE_MS);
    after = await counters(db, database);
    const [row] = await db.query<{ wal: string }>(
      `SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn) AS wal`,
      [after.lsn, before.lsn],
    );
    wal = Number(row.wal);
  }

  if (phase.requests > list.length)
    process.stdout.write(`warning: ${system} ran out of unique callbacks (re-sent some)\n`);
  let lost: number;
  if (verifying) {
    // Every acknowledged callback must be stored (as a hint): looked up by its order reference.
    const reference = new Map([...warmList, ...list].map((c) => [c.eventId, c.reference]));
    const wanted = [...ledger.acknowledged].map((id) => reference.get(id)!);
    const [row] = await db.query<{ stored: string }>(
      `SELECT COUNT(DISTINCT merchant_reference) AS stored FROM callbacks
        WHERE provider = 'nicepay' AND merchant_reference = ANY($1::text[])`,
      [wanted],
    );
    lost = wanted.length - Number(row.stored);
  } else {
    lost = [...ledger.acknowledged].filter((id) => !consumer.receivedAt.has(id)).length;
  }
  const repeats = consumer.deliveries - consumer.receivedAt.size;
  await server.stop();
  await sandbox?.sandbox.close();
  await consumer.close();
  await deleteTopology(exchange).catch(() => undefined);
  await db.drop();
  const per = (value: number | undefined) =>
    value === undefined ? undefined : value / Math.max(1, phase.ok);
  return {
    phase,
    processMs: per(1000 * processCpu)!,
    databaseMs: per(1000 * databaseCpu)!,
    commits: before && after ? per(after.commits - before.commits) : undefined,
    rows: before && after ? per(after.rows - before.rows) : undefined,
    walBytes: per(wal),
    statements: per(statements),
    lost,
    repeats,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export type FloorRuns = Partial<Record<FloorSystem, FloorFigures[]>>;

/** `rounds` rounds of `systems` in turn (the floor first), each phase on a fresh database. */
export async function alternate(
  systems: readonly FloorSystem[],
  rounds: number,
  options: FloorOptions,
): Promise<FloorRuns> {
  const runs: FloorRuns = {};
  for (let round = 1; round <= rounds; round += 1) {
    for (const system of systems) {
      process.stdout.write(`floor comparison, round ${round}/${rounds}: ${system}…\n`);
      (runs[system] ??= []).push(await measureSystem(system, options));
    }
  }
  return runs;
}

/** Gateway ÷ floor callbacks/s: the median of each round's own ratio, and the rounds' ratios. */
export function floorRatio(
  runs: FloorRuns,
  system: FloorSystem,
): { median: number; each: number[] } {
  const floor = runs.floor ?? [];
  const each = (runs[system] ?? []).map((g, i) => g.phase.perSecond / floor[i].phase.perSecond);
  return { median: median(each), each };
}

/** The comparison table (medians, each round in brackets) and each gateway's ratio to the floor. */
export function floorReport(runs: FloorRuns): string {
  const systems = (Object.keys(runs) as FloorSystem[]).filter((s) => runs[s]?.length);
  const gateways = systems.filter((s) => s !== 'floor');
  const cell = (
    system: FloorSystem,
    value: (f: FloorFigures) => number | undefined,
    digits: number,
  ) => {
    const each = runs[system]!.map((f) => value(f) ?? NaN);
    return `${fmt(median(each), digits)} [${each.map((v) => fmt(v, digits)).join(' ')}]`;
  };
  const row = (label: string, value: (f: FloorFigures) => number | undefined, digits: number) => {
    const m = (system: FloorSystem) => median(runs[system]!.map((f) => value(f) ?? NaN));
    return [
      label,
      ...systems.map((s) => cell(s, value, digits)),
      ...gateways.map((g) => fmt(m(g) / m('floor'), 2)),
    ];
  };
  const withCounters = runs.floor?.[0]?.commits !== undefined;
  const rows = [
    row('acknowledged callbacks/s', (f) => f.phase.perSecond, 0),
    row('ack p50 ms', (f) => f.phase.ackP50, 0),
    row('ack p99 ms', (f) => f.phase.ackP99, 0),
    row('server process CPU ms per callback', (f) => f.processMs, 3),
    row('PostgreSQL backend CPU ms per callback', (f) => f.databaseMs, 3),
    ...(withCounters
      ? [
          row('PostgreSQL commits per callback (xact_commit)', (f) => f.commits, 3),
          row('rows written per callback (tup_inserted+updated+deleted)', (f) => f.rows, 2),
          row('WAL bytes per callback (whole cluster)', (f) => f.walBytes, 0),
        ]
      : []),
    row('statements sent per callback (the floor’s own count)', (f) => f.statements, 3),
  ];
  let text = table(['figure', ...systems, ...gateways.map((g) => `${g} / floor`)], rows);
  for (const gateway of gateways) {
    const ratio = floorRatio(runs, gateway);
    text += `${gateway} ÷ floor, callbacks/s: ${fmt(ratio.median, 2)} (median of the rounds' ratios: ${ratio.each.map((r) => fmt(r, 2)).join(' ')})\n`;
  }
  const all = systems.flatMap((s) => runs[s]!);
  const lost = all.reduce((n, f) => n + f.lost, 0);
  const repeats = all.reduce((n, f) => n + f.repeats, 0);
  const errors = all.reduce((n, f) => n + f.phase.errors + f.phase.non2xx, 0);
  text += `check: acknowledged but not delivered (verification on: not stored) ${lost}, repeated deliveries ${repeats}, non-2xx or errors ${errors}\n`;
  return text;
}

/** Nothing lost, nothing doubled in any phase. */
export function floorRunsOk(runs: FloorRuns): boolean {
  return Object.values(runs).every((list) =>
    (list ?? []).every((f) => f.lost === 0 && f.repeats === 0),
  );
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_FLOOR_ROUNDS ?? 3);
  const options: FloorOptions = {
    duration: Number(process.env.BENCH_DURATION_S ?? 20),
    connections: Number(process.env.BENCH_CONNECTIONS ?? 64),
    counters: process.env.BENCH_FLOOR_COUNTERS !== '0',
    rate: process.env.BENCH_FLOOR_RATE ? Number(process.env.BENCH_FLOOR_RATE) : undefined,
  };
  const systems: FloorSystem[] = ['floor'];
  if (process.env.BENCH_FLOOR_STEPS === '1')
    systems.push(...(Object.keys(FLOOR_STEPS) as FloorSystem[]));
  // BENCH_BUILDS=before=<a build>/dist/src/main.js,after=dist/src/main.js: builds side by side.
  const builds = Object.fromEntries(
    (process.env.BENCH_BUILDS ?? '')
      .split(',')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  if (Object.keys(builds).length > 0) {
    options.builds = builds;
    systems.push(...Object.keys(builds).map((label) => `gateway@${label}` as const));
  } else {
    systems.push('gateway');
    if (process.env.BENCH_VERIFICATION !== '0') systems.push('gateway, verification on');
  }
  const runs = await alternate(systems, rounds, options);
  const out = (text: string) => process.stdout.write(text);
  out(`\nGateway against the plain-Node floor — ${new Date().toISOString()}\n`);
  out(
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; PostgreSQL + RabbitMQ + load generator on the same machine; durable NICEPAY, ${options.connections} keep-alive connections, ${options.duration} s per phase, ${rounds} alternating rounds (floor first); medians, each round in brackets\n\n`,
  );
  out(floorReport(runs));
  process.exit(floorRunsOk(runs) ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
