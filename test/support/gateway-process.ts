import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { AMQP_URL, sleep } from './broker.js';
import { PROVIDER_ENV } from './credentials.js';

/** dist/src/main.js, next to the compiled tests. */
export const MAIN_JS = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
}

/** Waits until the gateway at `url` answers /health/ready with 200 (benchmarks' spawned gateways). */
export async function waitForReady(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('gateway did not start');
    await sleep(50);
  }
}

/** Runs the real gateway (`node dist/src/main.js`) as a child process and waits until it is live. */
export async function spawnGateway(
  env: Record<string, string>,
  port?: number,
): Promise<GatewayProcess> {
  const listenPort = port ?? (await freePort());
  const chunks: string[] = [];
  const child = spawn(process.execPath, [MAIN_JS], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      AMQP_URL,
      OUTBOX_SWEEP_INTERVAL_MS: '250',
      ...PROVIDER_ENV,
      EXPECTED_COMMANDS_QUEUE: 'off',
      ...env,
      PORT: String(listenPort),
      // One port unless the test separates them (production would otherwise take 9090).
      MANAGEMENT_PORT: env.MANAGEMENT_PORT ?? String(listenPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${listenPort}`;
  // Generous: on a loaded 2-core machine a start with migrations can take well over 20 s.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Gateway exited at start:\n${chunks.join('')}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Gateway did not become ready:\n${chunks.join('')}`);
    }
    await sleep(50);
  }
  return { child, url, port: listenPort, output: () => chunks.join(''), exited };
}
