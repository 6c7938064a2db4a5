import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteTopology, sleep, uniqueExchange } from './broker.js';
import { freePort, MAIN_JS, waitForReady } from './gateway-process.js';

export interface Launched {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `node dist/src/main.js` with exactly `env` (plus PATH) in `cwd`: nothing of this shell leaks in. */
export function launch(
  env: Record<string, string>,
  cwd: string,
  script = MAIN_JS,
  args: string[] = [],
): Launched {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The start-up banner block: the lines between the two rules. */
export function banner(stderr: string): string[] {
  const lines = stderr.split('\n');
  const first = lines.findIndex((line) => /^={20,}$/.test(line));
  const last = lines.findIndex((line, i) => i > first && /^={20,}$/.test(line));
  return first >= 0 && last > first ? lines.slice(first + 1, last) : [];
}

export interface DemoGateway extends Launched {
  url: string;
  port: number;
  /** The embedded provider sandbox the demo's status inquiries go to. */
  sandboxPort: number;
  exchange: string;
  /** The empty working directory: the demo's SQLite file is under data/ there. */
  dir: string;
  /** Stops the gateway and removes its exchange, holding queue and directory. */
  stop(): Promise<void>;
}

/**
 * The gateway a newcomer gets from `npm start` on a fresh clone: `node dist/src/main.js` in an
 * empty directory (no .env) with no NODE_ENV and no provider setting, so it runs the demo
 * configuration (the checkout's .env.example). Only PORT, SANDBOX_PORT and EVENTS_EXCHANGE are
 * set, to keep it apart from anything else on this machine; its SQLite file is a fresh one in its
 * own directory. Resolves once the banner is printed and /health/ready answers 200 (the broker
 * is connected).
 */
export async function startDemoGateway(env: Record<string, string> = {}): Promise<DemoGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-demo-'));
  const port = await freePort();
  const sandboxPort = await freePort();
  const exchange = uniqueExchange();
  const url = `http://127.0.0.1:${port}`;
  const started = launch(
    { PORT: String(port), EVENTS_EXCHANGE: exchange, SANDBOX_PORT: String(sandboxPort), ...env },
    dir,
  );
  const stop = async () => {
    if (started.child.exitCode === null) started.child.kill('SIGTERM');
    await started.exited;
    await deleteTopology(exchange).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Generous: on a loaded 2-core machine a start with migrations can take well over 20 s.
    await waitForReady(url, 60_000);
    await until('the banner', () => banner(started.stderr()).length > 0);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}:\n${started.stdout()}${started.stderr()}`, {
      cause: error,
    });
  }
  return { ...started, url, port, sandboxPort, exchange, dir, stop };
}
