/** What the benchmarks share: the gateway as shipped, signed workloads, and an autocannon driver. */
import autocannon from 'autocannon';
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { AMQP_URL, sleep } from '../test/support/broker.js';
import {
  type Provider,
  PROVIDERS,
  type SignedCallback,
  signedCallback,
} from '../test/support/callbacks.js';
import { PROVIDER_ENV } from '../test/support/credentials.js';
import { freePort, MAIN_JS } from '../test/support/gateway-process.js';

/** NODE_OPTIONS of the container image, so the benchmark measures the gateway as shipped. */
export const SHIPPED_NODE_OPTIONS =
  /^ENV NODE_OPTIONS="([^"]*)"/m.exec(
    readFileSync(new URL('../../docker/Dockerfile', import.meta.url), 'utf8'),
  )?.[1] ?? '';

export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

export interface Phase {
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

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Pre-built callbacks of `providers` in turn: unique ones, with every 10th request an exact
 * re-send of an earlier one.
 */
export function workload(
  count: number,
  providers: readonly Provider[] = PROVIDERS,
): SignedCallback[] {
  const list: SignedCallback[] = [];
  for (let i = 0; i < count; i += 1) {
    list.push(
      i % 10 === 9 && i > 0
        ? list[Math.floor(Math.random() * (i - 1))]
        : signedCallback(providers[i % providers.length]),
    );
  }
  return list;
}

export function readPeakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds so far of the PostgreSQL backends connected to `database` (but the asking one). */
export async function backendCpu(
  query: (sql: string, params: unknown[]) => Promise<{ pid: number }[]>,
  database: string,
): Promise<number> {
  const rows = await query(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  let total = 0;
  for (const { pid } of rows) {
    try {
      total += cpuSeconds(pid);
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Busy and total CPU seconds of the whole machine so far (/proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0) / 100;
  const idle = (fields[3] + fields[4]) / 100;
  return { busy: total - idle, total };
}

export interface BenchGateway {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/**
 * The real gateway (`node dist/src/main.js`, or another build's: BENCH_MAIN_JS) with the image's
 * NODE_OPTIONS and logs at info to /dev/null. BENCH_GATEWAY_NODE_ARGS, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles it.
 */
export async function startGateway(
  env: Record<string, string>,
  mainJs: string = process.env.BENCH_MAIN_JS ?? MAIN_JS,
): Promise<BenchGateway> {
  const port = await freePort();
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, mainJs], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      NODE_OPTIONS: SHIPPED_NODE_OPTIONS,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      ...PROVIDER_ENV,
      EXPECTED_COMMANDS_QUEUE: 'off',
      AMQP_URL,
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '20',
      ...env,
      PORT: String(port),
      // One port, as measured before MANAGEMENT_PORT (production would add 9090 per gateway).
      MANAGEMENT_PORT: String(port),
    },
    stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  await untilServing(`${url}/health/live`, child, 'gateway');
  return {
    child,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits until `url` answers 200 (polled every 50 ms); throws once `child` exited or `polls` passed. */
export async function untilServing(
  url: string,
  child: ChildProcess,
  what: string,
  polls = 2400,
): Promise<void> {
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      /* starting */
    }
    if (i > polls || child.exitCode !== null) throw new Error(`${what} did not start`);
    await sleep(50);
  }
}

/** Records which callbacks were acknowledged, and when each was first sent. */
export class Ledger {
  readonly sentAt = new Map<string, number>();
  readonly acknowledged = new Set<string>();
}

/** Drives `list` at the gateway with autocannon (one request in flight per connection). */
export async function drive(
  url: string,
  name: string,
  list: SignedCallback[],
  ledger: Ledger,
  options: Partial<autocannon.Options>,
): Promise<Phase> {
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
          if (!ledger.sentAt.has(callback.eventId))
            ledger.sentAt.set(callback.eventId, performance.now());
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
          if (callback && status >= 200 && status < 300) ledger.acknowledged.add(callback.eventId);
        },
      },
    ],
  });
  return phaseOf(name, result);
}

export function phaseOf(name: string, result: autocannon.Result): Phase {
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
}

/** The no-op route of the same server: the framework's ceiling on this machine, in this run. */
export async function noop(url: string, seconds: number): Promise<Phase> {
  return phaseOf(
    'no-op route (GET /health/live)',
    await autocannon({ url: `${url}/health/live`, connections: CONNECTIONS, duration: seconds }),
  );
}

export const fmt = (n: number | undefined, digits = 1): string =>
  n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits);

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |\n`;
  return (
    line(header) + `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n` + rows.map(line).join('')
  );
}

export function phaseTable(phases: Phase[]): string {
  return table(
    [
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
    ],
    phases.map((p) => [
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
    ]),
  );
}
