/**
 * Load benchmark: `npm run bench`.
 *
 * Starts the real gateway (`node dist/src/main.js`, LOG_LEVEL=info to /dev/null) on the local
 * PostgreSQL and RabbitMQ, then on an embedded SQLite file, and drives signed callbacks with
 * autocannon (unique transactions plus ~10% exact re-sends). Measured in the same run, so every
 * figure is also printed as a ratio to a baseline of this run:
 * - durable NICEPAY callbacks/s on PostgreSQL, as a share of the same server's no-op route
 *   (`GET /health/live`, the framework's ceiling on this machine);
 * - all five providers at maximum rate, and at a fixed rate with end-to-end latency (request sent →
 *   event in a queue bound to the exchange);
 * - durable NICEPAY callbacks/s on SQLite, as a share of PostgreSQL's;
 * - CPU per callback of the gateway and of the PostgreSQL backends serving it, peak RSS, storage
 *   per stored callback, and that events = stored unique callbacks (nothing lost, nothing doubled).
 *
 * Options (environment): BENCH_DURATION_S (each max-throughput phase, default 20),
 * BENCH_CONNECTIONS (default 32), BENCH_RATE (fixed-rate phase, default 500/s),
 * BENCH_RATE_DURATION_S (default 15), BENCH_SQLITE=0 skips the SQLite gateway,
 * BENCH_VERIFICATION=0 skips the phases with status inquiry on (provider sandbox in this process;
 * BENCH_VERIFY_RATE: its inquiries per second, default 2000), BENCH_TWO_PROCESSES=0 skips the
 * phase with a second gateway process on the same database, BENCH_STORE_ONLY=0 the durable
 * NICEPAY phase with no broker (store and acknowledge only),
 * BENCH_GATEWAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_LOG_LEVEL,
 * BENCH_FLOOR_ROUNDS (default 3), BENCH_FLOOR_DURATION_S (default 8): the comparison with the
 * plain-Node floor (bench/floor.ts, as `npm run bench:floor` without its commit and WAL counters),
 * run first: floor, gateway with verification off, gateway with verification on, alternating;
 * BENCH_FLOOR_ROUNDS=0 skips it.
 * BENCH_BASELINE_MAIN_JS: the dist/src/main.js of another build (e.g. a checkout of an earlier
 * commit, built): its durable NICEPAY phase and no-op route and this build's run first, in the
 * same run, alternating BENCH_BASELINE_ROUNDS times (default 3), and a before/after table
 * compares the two builds' medians.
 */
import { cpus, totalmem } from 'node:os';
import { deleteTopology, uniqueExchange } from '../test/support/broker.js';
import type { SignedCallback } from '../test/support/callbacks.js';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import { Consumer } from './consumer.js';
import {
  alternate,
  floorRatio,
  floorReport,
  floorRunsOk,
  type FloorRuns,
  type FloorSystem,
} from './floor-compare.js';
import { storage } from './history.js';
import { verificationPhase, type VerificationRun } from './verification.js';
import {
  backendCpu,
  type BenchGateway,
  CONNECTIONS,
  cpuSeconds,
  drive,
  fmt,
  Ledger,
  noop,
  percentile,
  type Phase,
  phaseTable,
  readPeakRss,
  SHIPPED_NODE_OPTIONS,
  startGateway,
  table,
  workload,
} from './load.js';

const BASELINE_ROUNDS = Number(process.env.BENCH_BASELINE_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION_S ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const RATE_DURATION = Number(process.env.BENCH_RATE_DURATION_S ?? 15);
const WITH_SQLITE = process.env.BENCH_SQLITE !== '0';
const WITH_VERIFICATION = process.env.BENCH_VERIFICATION !== '0';
const WITH_TWO_PROCESSES = process.env.BENCH_TWO_PROCESSES !== '0';
const WITH_STORE_ONLY = process.env.BENCH_STORE_ONLY !== '0';
const FLOOR_ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 3);
const FLOOR_DURATION = Number(process.env.BENCH_FLOOR_DURATION_S ?? 8);
/** The issue-28 target: gateway ÷ plain-Node floor, durable callbacks/s. */
const FLOOR_TARGET = 0.6;
/** A broker address nothing listens on: the gateway stores, and publishes nothing. */
const NO_BROKER = 'amqp://guest:guest@127.0.0.1:1';
let peakRssSecond = 0;

/** Two phases that ran side by side, as one: requests and rates add up, latencies are the worse. */
function combinePhases(name: string, parts: Phase[]): Phase {
  const sum = (pick: (p: Phase) => number) => parts.reduce((total, p) => total + pick(p), 0);
  const worst = (pick: (p: Phase) => number) => Math.max(...parts.map(pick));
  return {
    ...parts[0],
    name,
    requests: sum((p) => p.requests),
    ok: sum((p) => p.ok),
    non2xx: sum((p) => p.non2xx),
    errors: sum((p) => p.errors),
    perSecond: sum((p) => p.perSecond),
    ackP50: worst((p) => p.ackP50),
    ackP99: worst((p) => p.ackP99),
  };
}

interface Check {
  acknowledged: number;
  lost: number;
  unexpected: number;
  repeats: number;
  stored: number;
  ok: boolean;
}

async function check(db: TestDatabase, consumer: Consumer, ledger: Ledger): Promise<Check> {
  await consumer.drain(ledger);
  const lost = [...ledger.acknowledged].filter((id) => !consumer.receivedAt.has(id)).length;
  const unexpected = [...consumer.receivedAt.keys()].filter(
    (id) => !ledger.acknowledged.has(id),
  ).length;
  const repeats = consumer.deliveries - consumer.receivedAt.size;
  const [{ rows }] = await db.query<{ rows: string }>(`SELECT COUNT(*) AS rows FROM outbox`);
  const stored = Number(rows);
  // Requests cut off when a phase ends may be stored (and published) without their 2xx being seen:
  // the invariant is one event per stored event row, and one for every acknowledged callback.
  return {
    acknowledged: ledger.acknowledged.size,
    lost,
    unexpected,
    repeats,
    stored,
    ok: lost === 0 && consumer.receivedAt.size === stored && repeats === 0,
  };
}

interface Measured<T> {
  value: T;
  gatewayCpu: number;
  databaseCpu: number;
}

/** Runs `work`, and reports the CPU seconds the gateway and its PostgreSQL backends spent on it. */
async function measured<T>(
  gateway: BenchGateway,
  db: TestDatabase | null,
  database: string | null,
  work: () => Promise<T>,
): Promise<Measured<T>> {
  const gw0 = cpuSeconds(gateway.child.pid!);
  const backends = () =>
    db && database ? backendCpu((sql, params) => db.query(sql, params), database) : 0;
  const db0 = await backends();
  const value = await work();
  const gatewayCpu = cpuSeconds(gateway.child.pid!) - gw0;
  const databaseCpu = (await backends()) - db0;
  return { value, gatewayCpu, databaseCpu };
}

const nicepay = ['nicepay'] as const;

interface BuildFigures {
  durable: Phase;
  noop: Phase;
  gatewayMs: number;
  noopMs: number;
  databaseMs: number;
}

/** One build's durable NICEPAY phase on a fresh PostgreSQL database, and its no-op route (this build's without `mainJs`). */
async function measureBuild(mainJs?: string): Promise<BuildFigures> {
  const db = await createTestDatabase('postgres');
  const database = new URL(db.env.DATABASE_URL).pathname.slice(1);
  const exchange = uniqueExchange();
  const gateway = await startGateway({ ...db.env, EVENTS_EXCHANGE: exchange }, mainJs);
  const ledger = new Ledger();
  await drive(gateway.url, 'warm-up', workload(3000), ledger, { duration: 3 });
  const durable = await measured(gateway, db, database, () =>
    drive(gateway.url, 'NICEPAY max', workload(DURATION * 5000, nicepay), ledger, {
      duration: DURATION,
    }),
  );
  const ceiling = await measured(gateway, null, null, () => noop(gateway.url, 10));
  await gateway.stop();
  await deleteTopology(exchange).catch(() => undefined);
  await db.drop();
  const per = (cpu: number, phase: Phase) => (1000 * cpu) / Math.max(1, phase.ok);
  return {
    durable: durable.value,
    noop: ceiling.value,
    gatewayMs: per(durable.gatewayCpu, durable.value),
    noopMs: per(ceiling.gatewayCpu, ceiling.value),
    databaseMs: per(durable.databaseCpu, durable.value),
  };
}

async function main(): Promise<void> {
  process.stdout.write(`Preparing databases, exchanges and signed callbacks…\n`);
  // The plain-Node floor first, on a machine not yet warmed by the long phases below.
  const floorSystems: FloorSystem[] = WITH_VERIFICATION
    ? ['floor', 'gateway', 'gateway, verification on']
    : ['floor', 'gateway'];
  const floorRuns: FloorRuns =
    FLOOR_ROUNDS > 0
      ? await alternate(floorSystems, FLOOR_ROUNDS, {
          duration: FLOOR_DURATION,
          connections: 64,
          counters: false,
        })
      : {};
  const baselineJs = process.env.BENCH_BASELINE_MAIN_JS;
  // Before and after alternate, so a machine that slows down or speeds up meanwhile weighs on both.
  const comparison: { before: BuildFigures[]; after: BuildFigures[] } = { before: [], after: [] };
  for (let round = 0; baselineJs && round < BASELINE_ROUNDS; round += 1) {
    comparison.before.push(await measureBuild(baselineJs));
    comparison.after.push(await measureBuild());
  }
  const db = await createTestDatabase('postgres');
  const database = new URL(db.env.DATABASE_URL).pathname.slice(1);
  const exchange = uniqueExchange();
  const consumer = await Consumer.bind(exchange);
  const ledger = new Ledger();
  const gateway = await startGateway({ ...db.env, EVENTS_EXCHANGE: exchange });

  const phases: Phase[] = [];
  await drive(gateway.url, 'warm-up', workload(3000), ledger, { duration: 3 });
  const durable = await measured(gateway, db, database, () =>
    drive(gateway.url, 'NICEPAY max (PostgreSQL)', workload(DURATION * 5000, nicepay), ledger, {
      duration: DURATION,
    }),
  );
  phases.push(durable.value);
  phases.push(
    await drive(gateway.url, 'all providers max (PostgreSQL)', workload(DURATION * 5000), ledger, {
      duration: DURATION,
    }),
  );

  // Fixed rate: end-to-end latency is measured on this phase's events only.
  const rateList = workload(RATE * RATE_DURATION + 1000);
  const rateStart = performance.now();
  const ratePhase = await drive(gateway.url, `all providers fixed ${RATE}/s`, rateList, ledger, {
    duration: RATE_DURATION,
    overallRate: RATE,
    connections: 16,
  });
  phases.push(ratePhase);
  // NICEPAY alone at the fixed rate: the ack latency verification on is compared with.
  const nicepayFixed = WITH_VERIFICATION
    ? await drive(
        gateway.url,
        `NICEPAY fixed ${RATE}/s (PostgreSQL)`,
        workload(RATE * RATE_DURATION + 1000, ['nicepay']),
        ledger,
        { duration: RATE_DURATION, overallRate: RATE, connections: 16 },
      )
    : null;
  if (nicepayFixed) phases.push(nicepayFixed);
  const ceiling = await measured(gateway, null, null, () => noop(gateway.url, 10));
  phases.push(ceiling.value);

  // Two gateway processes on this host sharing the database and the exchange, each driven with
  // half the connections at the same time: what a second process adds on the same cores.
  let twoProcesses: Phase | undefined;
  if (WITH_TWO_PROCESSES) {
    const second = await startGateway({ ...db.env, EVENTS_EXCHANGE: exchange });
    await drive(second.url, 'warm-up', workload(3000, nicepay), ledger, { duration: 3 });
    const halves = await Promise.all(
      [gateway, second].map((instance, i) =>
        drive(instance.url, `process ${i + 1}`, workload(DURATION * 3000, nicepay), ledger, {
          duration: DURATION,
          connections: Math.max(1, Math.floor(CONNECTIONS / 2)),
        }),
      ),
    );
    twoProcesses = combinePhases('NICEPAY max, two processes (PostgreSQL)', halves);
    phases.push(twoProcesses);
    peakRssSecond = readPeakRss(second.child.pid!);
    await second.stop();
  }

  const pgCheck = await check(db, consumer, ledger);
  const e2e = [...new Set(rateList.map((cb: SignedCallback) => cb.eventId))]
    .filter((id) => (ledger.sentAt.get(id) ?? 0) >= rateStart && consumer.receivedAt.has(id))
    .map((id) => consumer.receivedAt.get(id)! - ledger.sentAt.get(id)!)
    .sort((a, b) => a - b);
  ratePhase.e2eP50 = percentile(e2e, 50);
  ratePhase.e2eP99 = percentile(e2e, 99);
  let peakRss = readPeakRss(gateway.child.pid!);
  await gateway.stop();
  const pgStorage = await storage(db.env.DATABASE_URL);

  // The same durable phase on embedded SQLite (its own file, exchange and consumer).
  let sqlitePhase: Phase | undefined;
  let sqliteCheck: Check | undefined;
  if (WITH_SQLITE) {
    const file = await createTestDatabase('sqlite');
    const sqliteExchange = uniqueExchange();
    const sqliteConsumer = await Consumer.bind(sqliteExchange);
    const sqliteLedger = new Ledger();
    const sqliteGateway = await startGateway({ ...file.env, EVENTS_EXCHANGE: sqliteExchange });
    await drive(sqliteGateway.url, 'warm-up', workload(3000, nicepay), sqliteLedger, {
      duration: 3,
    });
    sqlitePhase = await drive(
      sqliteGateway.url,
      'NICEPAY max (SQLite)',
      workload(DURATION * 5000, nicepay),
      sqliteLedger,
      { duration: DURATION },
    );
    phases.push(sqlitePhase);
    sqliteCheck = await check(file, sqliteConsumer, sqliteLedger);
    peakRss = Math.max(peakRss, readPeakRss(sqliteGateway.child.pid!));
    await sqliteGateway.stop();
    await sqliteConsumer.close();
    await deleteTopology(sqliteExchange).catch(() => undefined);
    await file.drop();
  }

  // The durable NICEPAY phase with no broker at all: store and acknowledge only (no publish,
  // confirm or "published" mark). What the callback path costs before its events leave.
  let storeOnly: Measured<Phase> | undefined;
  if (WITH_STORE_ONLY) {
    const empty = await createTestDatabase('postgres');
    const emptyName = new URL(empty.env.DATABASE_URL).pathname.slice(1);
    const storing = await startGateway({ ...empty.env, AMQP_URL: NO_BROKER });
    await drive(storing.url, 'warm-up', workload(3000, nicepay), new Ledger(), { duration: 3 });
    storeOnly = await measured(storing, empty, emptyName, () =>
      drive(
        storing.url,
        'NICEPAY max, no broker (store only)',
        workload(DURATION * 5000, nicepay),
        new Ledger(),
        { duration: DURATION },
      ),
    );
    phases.push(storeOnly.value);
    await storing.stop();
    await empty.drop();
  }

  // The durable NICEPAY phase again, with every callback confirmed by the provider sandbox.
  let verification: VerificationRun | undefined;
  if (WITH_VERIFICATION) {
    verification = await verificationPhase(DURATION, RATE, RATE_DURATION);
    phases.push(verification.phase, verification.fixed);
  }

  const out = (text: string) => process.stdout.write(text);
  const noopRate = ceiling.value.perSecond;
  const pgRate = durable.value.perSecond;
  const cpuPerCallback = (1000 * durable.gatewayCpu) / Math.max(1, durable.value.ok);
  const cpuPerNoop = (1000 * ceiling.gatewayCpu) / Math.max(1, ceiling.value.ok);
  const dbPerCallback = (1000 * durable.databaseCpu) / Math.max(1, durable.value.ok);
  const verdict = pgCheck.ok && (sqliteCheck?.ok ?? true) && floorRunsOk(floorRuns);

  out(`\nPayment callback gateway benchmark — ${new Date().toISOString()}\n`);
  out(
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; PostgreSQL + RabbitMQ on loopback; load generator on the same machine; ${DURATION} s per max phase, ${CONNECTIONS} connections\n\n`,
  );
  out(phaseTable(phases));
  const target = (ok: boolean) => (ok ? 'met' : 'NOT met');
  out(`\nratios (same run):\n`);
  out(
    `  durable NICEPAY on PostgreSQL: ${fmt(pgRate, 0)}/s = ${fmt(pgRate / noopRate, 2)} of the no-op route's ${fmt(noopRate, 0)}/s (target ≥ 0.50: ${target(pgRate / noopRate >= 0.5)})\n`,
  );
  if (storeOnly) {
    const rate = storeOnly.value.perSecond;
    const cpu = (1000 * storeOnly.gatewayCpu) / Math.max(1, storeOnly.value.ok);
    out(
      `  the same with no broker (store and acknowledge only: nothing published, confirmed or marked): ${fmt(rate, 0)}/s = ${fmt(rate / noopRate, 2)} of the no-op route; gateway CPU ${fmt(cpu, 2)} ms per callback = ${fmt(cpu / cpuPerNoop, 1)}× a no-op request\n`,
    );
  }
  if (twoProcesses) {
    out(
      `  two gateway processes on this host (same database, half the connections each): ${fmt(twoProcesses.perSecond, 0)}/s = ${fmt(twoProcesses.perSecond / pgRate, 2)}× one process; ack p99 ${fmt(twoProcesses.ackP99)} ms; second process peak RSS ${fmt(peakRssSecond, 0)} MB\n`,
    );
  }
  if (sqlitePhase) {
    out(
      `  durable NICEPAY on SQLite: ${fmt(sqlitePhase.perSecond, 0)}/s = ${fmt(sqlitePhase.perSecond / pgRate, 2)} of PostgreSQL (target ≥ 0.75: ${target(sqlitePhase.perSecond / pgRate >= 0.75)})\n`,
    );
  }
  if (verification && nicepayFixed) {
    const on = verification.phase;
    const fixedOn = verification.fixed;
    out(
      `  durable NICEPAY with verification on (status inquiry to the sandbox on this machine, VERIFY_RATE_PER_SECOND=${verification.ratePerSecond}): ${fmt(on.perSecond, 0)}/s acknowledged = ${fmt(on.perSecond / pgRate, 2)} of verification off; verified events ${fmt(verification.verifiedPerSecond, 0)}/s (${verification.verified} of ${verification.acknowledged} acknowledged)\n`,
    );
    out(
      `  ack latency at a fixed ${RATE}/s, NICEPAY: p50/p99 ${fmt(fixedOn.ackP50)}/${fmt(fixedOn.ackP99)} ms with verification on vs ${fmt(nicepayFixed.ackP50)}/${fmt(nicepayFixed.ackP99)} ms off (at max rate: ${fmt(on.ackP99)} vs ${fmt(durable.value.ackP99)} ms p99)\n`,
    );
  }

  out(
    `  ack p99 at ${RATE}/s: ${fmt(ratePhase.ackP99)} ms (target ≤ 50: ${target(ratePhase.ackP99 <= 50)}); end-to-end p99: ${fmt(ratePhase.e2eP99)} ms (target ≤ 100: ${target(ratePhase.e2eP99 <= 100)})\n`,
  );
  out(
    `  gateway CPU: ${fmt(cpuPerCallback, 2)} ms per durable NICEPAY callback, ${fmt(cpuPerNoop, 2)} ms per no-op request (${fmt(cpuPerCallback / cpuPerNoop, 1)}×); PostgreSQL backends: ${fmt(dbPerCallback, 2)} ms per callback = ${fmt(dbPerCallback, 2)} cores per 1,000 callbacks/s\n`,
  );
  out(
    `  peak RSS of the gateway: ${fmt(peakRss, 0)} MB (target ≤ 256: ${target(peakRss <= 256)}; NODE_OPTIONS="${SHIPPED_NODE_OPTIONS}", as in the image)\n`,
  );
  out(
    `  storage per stored callback (PostgreSQL, tables + TOAST + indexes, ${pgStorage.callbacks} callbacks): ${fmt(pgStorage.perCallback, 0)} bytes\n`,
  );
  if (baselineJs) {
    out(
      `\nbefore (${baselineJs}) / after (this build): ${BASELINE_ROUNDS} alternating rounds in this run, medians (each round's figure in brackets)\n`,
    );
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    const row = (label: string, value: (b: BuildFigures) => number, digits: number) => {
      const before = median(comparison.before.map(value));
      const after = median(comparison.after.map(value));
      const each = (list: BuildFigures[]) => list.map((b) => fmt(value(b), digits)).join(' ');
      return [
        label,
        `${fmt(before, digits)} [${each(comparison.before)}]`,
        `${fmt(after, digits)} [${each(comparison.after)}]`,
        fmt(after / before, 2),
      ];
    };
    out(
      table(
        ['figure', 'before', 'after', 'after / before'],
        [
          row('durable NICEPAY callbacks/s (PostgreSQL)', (b) => b.durable.perSecond, 0),
          row('no-op route requests/s', (b) => b.noop.perSecond, 0),
          row('durable NICEPAY / no-op route', (b) => b.durable.perSecond / b.noop.perSecond, 2),
          row('gateway CPU ms per durable callback', (b) => b.gatewayMs, 2),
          row('gateway CPU ms per no-op request', (b) => b.noopMs, 2),
          // Within one round: the machine's speed of the moment cancels out.
          row(
            'gateway CPU per durable callback / per no-op request',
            (b) => b.gatewayMs / b.noopMs,
            2,
          ),
          row('PostgreSQL backend CPU ms per callback', (b) => b.databaseMs, 2),
          row('ack p99 ms (max rate)', (b) => b.durable.ackP99, 0),
        ],
      ),
    );
  }
  if (FLOOR_ROUNDS > 0) {
    out(
      `\nagainst the plain-Node floor (bench/floor.ts; durable NICEPAY, 64 connections, ${FLOOR_DURATION} s per phase, ${FLOOR_ROUNDS} alternating rounds, floor first; medians, each round in brackets):\n`,
    );
    out(floorReport(floorRuns));
    for (const system of floorSystems.slice(1)) {
      const ratio = floorRatio(floorRuns, system).median;
      out(
        `  ${system} ÷ plain-Node durable limit: ${fmt(ratio, 2)} (target ≥ ${FLOOR_TARGET}: ${target(ratio >= FLOOR_TARGET)})\n`,
      );
    }
    out('\n');
  }
  const describe = (name: string, c: Check) =>
    `  ${name}: acknowledged ${c.acknowledged}; stored events ${c.stored}; lost ${c.lost}; stored but unacknowledged (cut off at phase end) ${c.unexpected}; repeated deliveries ${c.repeats}\n`;
  out(describe('PostgreSQL', pgCheck));
  if (sqliteCheck) out(describe('SQLite', sqliteCheck));
  out(
    verdict
      ? 'check: events = stored events, every acknowledged callback published (nothing lost, nothing doubled)\n'
      : 'check FAILED: events differ from stored events\n',
  );

  await consumer.close();
  await deleteTopology(exchange).catch(() => undefined);
  await db.drop();
  process.exit(verdict ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
