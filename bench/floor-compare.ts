/**
 * The gateway against the plain-Node floor (bench/floor.ts, issue 28): `npm run bench:floor`.
 *
 * Both run as child processes with the image's NODE_OPTIONS, each round on a fresh PostgreSQL
 * database and a fresh exchange with a consumer bound to it, and take the same client workload:
 * bench/load.ts drive() with BENCH_CONNECTIONS (default here 64) keep-alive connections, unique
 * NICEPAY transactions signed with the test credentials (about 10% exact re-sends), the gateway
 * with NICEPAY_VERIFY=off. Floor and gateway alternate over BENCH_FLOOR_ROUNDS rounds (default
 * 3) of BENCH_DURATION_S seconds (default 20) after a 3 s warm-up.
 *
 * Per system and round: acknowledged callbacks/s; CPU per callback of the server process
 * (/proc/<pid>/stat) and of the PostgreSQL backends serving it (bench/load.ts backendCpu), over
 * the phase and until every acknowledged event reached the consumer; and, from a quiet start to a
 * quiet end, PostgreSQL commits (pg_stat_database.xact_commit: pg_stat_statements is not assumed
 * to be preloaded), rows written (tup_inserted + tup_updated + tup_deleted) and WAL bytes
 * (pg_current_wal_lsn, whole cluster) per callback. The floor also reports the statements it sent.
 */
import { cpus } from 'node:os';
import { AMQP_URL, deleteTopology, sleep, uniqueExchange } from '../test/support/broker.js';
import { PROVIDER_ENV } from '../test/support/credentials.js';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
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

const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION_S ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
/** PostgreSQL flushes an idle backend's statistics after 10 s (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_000;
const nicepay = ['nicepay'] as const;

type System = 'floor' | 'gateway';

interface Figures {
  phase: Phase;
  processMs: number;
  databaseMs: number;
  commits: number;
  rows: number;
  walBytes: number;
  /** The floor's own count of statements sent; undefined for the gateway. */
  statements?: number;
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

async function measure(system: System): Promise<Figures> {
  // Unique transactions for 10,000/s: a phase that ran out would re-send them as duplicates.
  const list = workload(DURATION * 10_000, nicepay);
  const db = await createTestDatabase('postgres');
  const database = new URL(db.env.DATABASE_URL).pathname.slice(1);
  const exchange = uniqueExchange();
  const consumer = await Consumer.bind(exchange);
  const env = { ...db.env, EVENTS_EXCHANGE: exchange };
  const floor =
    system === 'floor'
      ? await startFloor(
          { ...PROVIDER_ENV, ...env, AMQP_URL, DATABASE_POOL_SIZE: '20' },
          SHIPPED_NODE_OPTIONS,
        )
      : null;
  const server = floor ?? (await startGateway(env));
  const pid = server.child.pid!;
  const ledger = new Ledger();
  const options = { connections: CONNECTIONS };
  await drive(server.url, 'warm-up', workload(3000, nicepay), ledger, { ...options, duration: 3 });
  await consumer.drain(ledger);
  await sleep(STATS_SETTLE_MS);

  const backends = () => backendCpu((sql, params) => db.query(sql, params), database);
  const statements0 = (await floor?.stats())?.statements ?? 0;
  const before = await counters(db, database);
  const process0 = cpuSeconds(pid);
  const database0 = await backends();
  const phase = await drive(server.url, `${system} NICEPAY max`, list, ledger, {
    ...options,
    duration: DURATION,
  });
  await consumer.drain(ledger);
  const processCpu = cpuSeconds(pid) - process0;
  const databaseCpu = (await backends()) - database0;
  const statements = floor ? (await floor.stats()).statements - statements0 : undefined;
  await sleep(STATS_SETTLE_MS);
  const after = await counters(db, database);
  const [{ wal }] = await db.query<{ wal: string }>(
    `SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn) AS wal`,
    [after.lsn, before.lsn],
  );

  if (phase.requests > list.length)
    process.stdout.write(`warning: ${system} ran out of unique callbacks (re-sent some)\n`);
  const lost = [...ledger.acknowledged].filter((id) => !consumer.receivedAt.has(id)).length;
  const repeats = consumer.deliveries - consumer.receivedAt.size;
  await server.stop();
  await consumer.close();
  await deleteTopology(exchange).catch(() => undefined);
  await db.drop();
  const per = (value: number) => value / Math.max(1, phase.ok);
  return {
    phase,
    processMs: per(1000 * processCpu),
    databaseMs: per(1000 * databaseCpu),
    commits: per(after.commits - before.commits),
    rows: per(after.rows - before.rows),
    walBytes: per(Number(wal)),
    statements: statements === undefined ? undefined : per(statements),
    lost,
    repeats,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const runs: Record<System, Figures[]> = { floor: [], gateway: [] };
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const system of ['floor', 'gateway'] as const) {
      process.stdout.write(`round ${round}/${ROUNDS}: ${system}…\n`);
      runs[system].push(await measure(system));
    }
  }

  const out = (text: string) => process.stdout.write(text);
  out(`\nGateway against the plain-Node floor — ${new Date().toISOString()}\n`);
  out(
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; PostgreSQL + RabbitMQ + load generator on the same machine; durable NICEPAY, ${CONNECTIONS} keep-alive connections, ${DURATION} s per phase, ${ROUNDS} alternating rounds (floor first), NICEPAY_VERIFY=off; medians, each round in brackets\n\n`,
  );
  const row = (label: string, value: (f: Figures) => number | undefined, digits: number) => {
    const each = (system: System) => runs[system].map((f) => value(f) ?? NaN);
    const m = (system: System) => median(each(system));
    const list = (system: System) =>
      `${fmt(m(system), digits)} [${each(system)
        .map((v) => fmt(v, digits))
        .join(' ')}]`;
    return [label, list('floor'), list('gateway'), fmt(m('gateway') / m('floor'), 2)];
  };
  out(
    table(
      ['figure', 'floor', 'gateway', 'gateway / floor'],
      [
        row('acknowledged callbacks/s', (f) => f.phase.perSecond, 0),
        row('ack p50 ms', (f) => f.phase.ackP50, 0),
        row('ack p99 ms', (f) => f.phase.ackP99, 0),
        row('server process CPU ms per callback', (f) => f.processMs, 3),
        row('PostgreSQL backend CPU ms per callback', (f) => f.databaseMs, 3),
        row('PostgreSQL commits per callback (xact_commit)', (f) => f.commits, 3),
        row('rows written per callback (tup_inserted+updated+deleted)', (f) => f.rows, 2),
        row('WAL bytes per callback (whole cluster)', (f) => f.walBytes, 0),
        row('statements sent per callback (the floor’s own count)', (f) => f.statements, 3),
      ],
    ),
  );
  const ratios = runs.gateway.map((g, i) => g.phase.perSecond / runs.floor[i].phase.perSecond);
  out(
    `\ngateway ÷ floor, callbacks/s: ${fmt(median(ratios), 2)} (median of the rounds' ratios: ${ratios.map((r) => fmt(r, 2)).join(' ')})\n`,
  );
  const all = [...runs.floor, ...runs.gateway];
  const lost = all.reduce((n, f) => n + f.lost, 0);
  const repeats = all.reduce((n, f) => n + f.repeats, 0);
  const errors = all.reduce((n, f) => n + f.phase.errors + f.phase.non2xx, 0);
  out(
    `check: acknowledged events not delivered ${lost}, repeated deliveries ${repeats}, non-2xx or errors ${errors}\n`,
  );
  process.exit(lost === 0 && repeats === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
