/**
 * Load benchmark: `npm run bench`.
 *
 * Starts the real gateway (`node dist/src/main.js`, LOG_LEVEL=info to /dev/null) against the local
 * PostgreSQL and RabbitMQ, drives signed callbacks of all five providers (unique transactions plus
 * ~10% exact re-sends) with autocannon, and measures in the same run a no-op route of the same
 * server as the framework ceiling. Prints durable callbacks/s, ack and end-to-end latency, peak RSS,
 * and checks that events = unique callbacks (nothing lost, nothing doubled).
 *
 * Options (environment): BENCH_DURATION_S (max-throughput phase, default 20), BENCH_CONNECTIONS
 * (default 32), BENCH_RATE (fixed-rate phase, default 500/s), BENCH_RATE_DURATION_S (default 15).
 */
import amqplib from 'amqplib';
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { AMQP_URL, deleteTopology, sleep, uniqueExchange } from '../test/support/broker.js';
import { PROVIDERS, type SignedCallback, signedCallback } from '../test/support/callbacks.js';
import { PROVIDER_ENV } from '../test/support/credentials.js';
import { createTestDatabase } from '../test/support/databases.js';
import { freePort, MAIN_JS } from '../test/support/gateway-process.js';

/** NODE_OPTIONS of the container image, so the benchmark measures the gateway as shipped. */
const SHIPPED_NODE_OPTIONS =
  /^ENV NODE_OPTIONS="([^"]*)"/m.exec(
    readFileSync(new URL('../../docker/Dockerfile', import.meta.url), 'utf8'),
  )?.[1] ?? '';

const DURATION = Number(process.env.BENCH_DURATION_S ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const RATE_DURATION = Number(process.env.BENCH_RATE_DURATION_S ?? 15);

interface Phase {
  name: string;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  perSecond: number;
  ackP50: number;
  ackP99: number;
  e2eP50?: number;
  e2eP99?: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Pre-built callbacks: unique ones, with every 10th request an exact re-send of an earlier one. */
function workload(count: number): SignedCallback[] {
  const list: SignedCallback[] = [];
  for (let i = 0; i < count; i += 1) {
    list.push(
      i % 10 === 9 && i > 0
        ? list[Math.floor(Math.random() * (i - 1))]
        : signedCallback(PROVIDERS[i % PROVIDERS.length]),
    );
  }
  return list;
}

function readPeakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function main(): Promise<void> {
  process.stdout.write(
    `Preparing: database, exchange, ${Math.round((DURATION * 4000 + RATE * RATE_DURATION) / 1000)}k signed callbacks…\n`,
  );
  const db = await createTestDatabase('postgres');
  const exchange = uniqueExchange();

  // The consumer: a queue bound to every event, recording arrival time per event id.
  const connection = await amqplib.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', {
    durable: true,
    alternateExchange: `${exchange}.unrouted`,
  });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, '#');
  const receivedAt = new Map<string, number>();
  let deliveries = 0;
  await channel.consume(
    queue,
    (msg) => {
      if (!msg) return;
      deliveries += 1;
      const id = String(msg.properties.messageId);
      if (!receivedAt.has(id)) receivedAt.set(id, performance.now());
    },
    { noAck: true },
  );

  const port = await freePort();
  // The gateway runs with the image's NODE_OPTIONS (V8 heap sizing), as shipped.
  // BENCH_GATEWAY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the gateway.
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const gateway = spawn(process.execPath, [...nodeArgs, MAIN_JS], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      NODE_OPTIONS: SHIPPED_NODE_OPTIONS,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      ...PROVIDER_ENV,
      ...db.env,
      AMQP_URL,
      EVENTS_EXCHANGE: exchange,
      PORT: String(port),
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '20',
    },
    stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      /* starting */
    }
    if (i > 400) throw new Error('gateway did not start');
    await sleep(50);
  }

  const sentAt = new Map<string, number>();
  const acknowledged = new Set<string>();
  const run = async (
    name: string,
    list: SignedCallback[],
    options: Partial<autocannon.Options>,
  ): Promise<Phase> => {
    let next = 0;
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      ...options,
      requests: [
        {
          // One request in flight per connection: the connection's context says which one answered.
          setupRequest: (req, context) => {
            const callback = list[next % list.length];
            next += 1;
            (context as { current?: SignedCallback }).current = callback;
            if (!sentAt.has(callback.eventId)) sentAt.set(callback.eventId, performance.now());
            return {
              ...req,
              method: callback.method,
              path: callback.path,
              headers: callback.headers,
              body: callback.body,
            };
          },
          onResponse: (status, _body, context) => {
            const callback = (context as { current?: SignedCallback }).current;
            if (callback && status >= 200 && status < 300) acknowledged.add(callback.eventId);
          },
        },
      ],
    });
    return {
      name,
      requests: result.requests.total,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      perSecond: result['2xx'] / (result.duration || 1),
      ackP50: result.latency.p50,
      ackP99: result.latency.p99,
    };
  };

  // Warm-up (JIT, pools), not reported.
  await run('warm-up', workload(3000), { duration: 3 });

  const phases: Phase[] = [];
  const maxList = workload(DURATION * 5000);
  phases.push(await run('max throughput', maxList, { duration: DURATION }));

  // Fixed rate: end-to-end latency is measured on this phase's events only.
  const rateList = workload(RATE * RATE_DURATION + 1000);
  const rateStart = performance.now();
  const ratePhase = await run(`fixed ${RATE}/s`, rateList, {
    duration: RATE_DURATION,
    overallRate: RATE,
    connections: Math.min(CONNECTIONS, 16),
  });
  phases.push(ratePhase);

  const noop = await autocannon({
    url: `${url}/health/live`,
    connections: CONNECTIONS,
    duration: 10,
  });
  phases.push({
    name: 'no-op route (GET /health/live)',
    requests: noop.requests.total,
    ok: noop['2xx'],
    non2xx: noop.non2xx,
    errors: noop.errors + noop.timeouts,
    perSecond: noop['2xx'] / (noop.duration || 1),
    ackP50: noop.latency.p50,
    ackP99: noop.latency.p99,
  });

  // Drain: every acknowledged callback's event must arrive exactly once (ids are deterministic).
  const deadline = Date.now() + 60_000;
  while ([...acknowledged].some((id) => !receivedAt.has(id)) && Date.now() < deadline)
    await sleep(200);
  await sleep(1000);
  const lost = [...acknowledged].filter((id) => !receivedAt.has(id)).length;
  const unexpected = [...receivedAt.keys()].filter((id) => !acknowledged.has(id)).length;
  const repeats = deliveries - receivedAt.size;

  const e2e = rateList
    .map((cb) => cb.eventId)
    .filter(
      (id, i, all) =>
        all.indexOf(id) === i && (sentAt.get(id) ?? 0) >= rateStart && receivedAt.has(id),
    )
    .map((id) => receivedAt.get(id)! - sentAt.get(id)!)
    .sort((a, b) => a - b);
  ratePhase.e2eP50 = percentile(e2e, 50);
  ratePhase.e2eP99 = percentile(e2e, 99);

  const peakRss = readPeakRss(gateway.pid!);
  const [{ rows }] = await db.query<{ rows: string }>(
    `SELECT COUNT(*) AS rows FROM callbacks WHERE outcome = 'accepted'`,
  );

  const max = phases[0];
  const ceiling = phases[2];
  const fmt = (n: number | undefined, digits = 1) =>
    n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits);
  process.stdout.write(`\nPayment callback gateway benchmark — ${new Date().toISOString()}\n`);
  process.stdout.write(
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; PostgreSQL + RabbitMQ on loopback; load generator on the same machine\n\n`,
  );
  const header = [
    'phase',
    'requests',
    '2xx',
    'non-2xx',
    'errors',
    '2xx/s',
    'ack p50 ms',
    'ack p99 ms',
    'e2e p50 ms',
    'e2e p99 ms',
  ];
  const rowsOut = phases.map((p) => [
    p.name,
    String(p.requests),
    String(p.ok),
    String(p.non2xx),
    String(p.errors),
    fmt(p.perSecond, 0),
    fmt(p.ackP50),
    fmt(p.ackP99),
    fmt(p.e2eP50),
    fmt(p.e2eP99),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rowsOut.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |\n`;
  process.stdout.write(line(header));
  process.stdout.write(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const r of rowsOut) process.stdout.write(line(r));
  process.stdout.write(
    `\ndurable callbacks/s (max phase, 2xx after commit): ${fmt(max.perSecond, 0)} — ${fmt((100 * max.perSecond) / ceiling.perSecond, 0)}% of the no-op route's ${fmt(ceiling.perSecond, 0)}/s\n`,
  );
  process.stdout.write(
    `peak RSS of the gateway: ${fmt(peakRss, 0)} MB (NODE_OPTIONS="${SHIPPED_NODE_OPTIONS}", as in the image)\n`,
  );
  process.stdout.write(
    `unique callbacks acknowledged: ${acknowledged.size}; stored accepted rows: ${rows}; events received: ${receivedAt.size}; lost: ${lost}; stored but unacknowledged (cut off at phase end): ${unexpected}; repeated deliveries: ${repeats}\n`,
  );
  // Requests cut off when a phase ends may be stored (and published) without their 2xx being seen:
  // the invariant is one event per stored callback, and one for every acknowledged one.
  const verdict = lost === 0 && receivedAt.size === Number(rows) && repeats === 0;
  process.stdout.write(
    verdict
      ? 'check: events = stored unique callbacks, every acknowledged one published (nothing lost, nothing doubled)\n'
      : 'check FAILED: events differ from unique callbacks\n',
  );

  gateway.kill('SIGTERM');
  await new Promise((resolve) => gateway.on('exit', resolve));
  await channel.close();
  await connection.close();
  await deleteTopology(exchange).catch(() => undefined);
  await db.drop();
  process.exit(verdict ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
