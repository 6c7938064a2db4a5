import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { AMQP_URL, sleep } from '../support/broker.js';
import { FaultStream, finishScenario, killAndRestartScenario, Rig } from './fault-stream.js';

/**
 * The real thing: this machine's RabbitMQ and PostgreSQL are stopped and started again under a
 * steady stream of callbacks. Never part of `npm test` (other suites may be running against the
 * same services): only with FAULTS_MACHINE=1, i.e. `npm run test:faults`. Whatever happens, the
 * services are started again and checked before the suite ends.
 */

const run = promisify(execFile);
const STREAM_MS = 2_000;
const RABBIT_DOWN_MS = 10_000;
const POSTGRES_DOWN_MS = 4_000;

const PG_VERSION =
  process.env.FAULTS_PG_VERSION ??
  (() => {
    try {
      return readdirSync('/etc/postgresql').sort((a, b) => Number(b) - Number(a))[0] ?? '15';
    } catch {
      return '15';
    }
  })();
const PG_CLUSTER = process.env.FAULTS_PG_CLUSTER ?? 'main';

const pgctl = (action: 'start' | 'stop') =>
  run(
    'pg_ctlcluster',
    [
      '--skip-systemctl-redirect',
      PG_VERSION,
      PG_CLUSTER,
      action,
      ...(action === 'stop' ? ['-m', 'fast'] : []),
    ],
    { timeout: 60_000 },
  );
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', args, { timeout: 120_000 });

async function postgresReady(): Promise<boolean> {
  try {
    await run('pg_isready', ['-h', '127.0.0.1', '-p', '5432'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host, timeout: 2_000 });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** A TCP connect to 5672 and a real AMQP handshake. */
async function rabbitReady(): Promise<boolean> {
  if (!(await tcpOpen(5672))) return false;
  try {
    const connection = await amqplib.connect(AMQP_URL, { timeout: 5_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not back after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Starts whichever service is not answering, and verifies both answer. Safe to call any time. */
async function ensureServicesUp(): Promise<void> {
  const problems: string[] = [];
  if (!(await postgresReady())) {
    await pgctl('start').catch((e: Error) => problems.push(`pg_ctlcluster start: ${e.message}`));
    await until(postgresReady, 60_000, 'PostgreSQL (pg_isready)').catch((e: Error) =>
      problems.push(e.message),
    );
  }
  if (!(await rabbitReady())) {
    await rabbitmqctl('start_app').catch((e: Error) =>
      problems.push(`rabbitmqctl start_app: ${e.message}`),
    );
    await rabbitmqctl('await_startup').catch((e: Error) =>
      problems.push(`rabbitmqctl await_startup: ${e.message}`),
    );
    await until(rabbitReady, 60_000, 'RabbitMQ (TCP 5672 + AMQP)').catch((e: Error) =>
      problems.push(e.message),
    );
  }
  if (problems.length > 0)
    throw new Error(`Could not bring the machine's services back:\n${problems.join('\n')}`);
}

/** Waits until the gateway's readiness (database ping + broker channel) is green again. */
async function gatewayReady(url: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await until(
    async () => {
      try {
        return (await fetch(`${url}/health/ready`)).status === 200;
      } catch {
        return false;
      }
    },
    timeoutMs,
    'gateway readiness',
  );
  return Date.now() - started;
}

describe(
  "fault injection on this machine's services (RabbitMQ and PostgreSQL really stopped)",
  {
    skip:
      !process.env.FAULTS_MACHINE &&
      "set FAULTS_MACHINE=1 (npm run test:faults) to stop this machine's services",
  },
  () => {
    before(async () => {
      assert.ok(await postgresReady(), 'PostgreSQL answers before the suite');
      assert.ok(await rabbitReady(), 'RabbitMQ answers before the suite');
    });
    after(ensureServicesUp);

    it('(a) rabbitmqctl stop_app for 10 s, then start_app: callbacks acknowledged throughout, all published after; none lost', async () => {
      const rig = await Rig.create();
      let stopped = false;
      try {
        const stream = new FaultStream(rig.gateway.url).start();
        await sleep(STREAM_MS);
        stream.mark('fault');
        stopped = true;
        await rabbitmqctl('stop_app');
        assert.equal(await tcpOpen(5672), false, 'RabbitMQ no longer listens');
        await sleep(RABBIT_DOWN_MS);
        await rabbitmqctl('start_app');
        await rabbitmqctl('await_startup');
        stopped = false;
        stream.mark('recovered');
        const readyAfter = await gatewayReady(rig.gateway.url, 30_000);
        console.log(`gateway ready again ${readyAfter} ms after RabbitMQ start_app returned`);
        await sleep(STREAM_MS);
        const figures = await finishScenario(
          'machine: rabbitmqctl stop_app 10 s + start_app',
          rig,
          stream,
        );
        assert.ok(
          figures.phases[1]['2xx'] > 0,
          'callbacks were acknowledged while RabbitMQ was stopped',
        );
        assert.equal(rig.gateway.child.exitCode, null, 'the gateway survived the outage');
      } catch (error) {
        console.error(rig.output());
        throw error;
      } finally {
        if (stopped) await ensureServicesUp();
        await rig.teardown();
      }
    });

    it('(b) kill -9 of the gateway and a restart: no acknowledged callback lost', async () => {
      await killAndRestartScenario('machine: kill -9 gateway + restart', STREAM_MS);
    });

    it('(c) PostgreSQL stopped ~4 s, then started: 503 meanwhile (never 2xx), the gateway reconnects by itself; none lost', async () => {
      // The database exists before the stop; the gateway's pool loses every connection.
      const rig = await Rig.create();
      let stopped = false;
      try {
        const stream = new FaultStream(rig.gateway.url).start();
        await sleep(STREAM_MS);
        stream.mark('fault');
        stopped = true;
        await pgctl('stop');
        const downAt = Date.now();
        assert.equal(await postgresReady(), false, 'PostgreSQL is down');
        await sleep(POSTGRES_DOWN_MS);
        const upAt = Date.now();
        await pgctl('start');
        await until(postgresReady, 60_000, 'PostgreSQL');
        const answeredAt = Date.now();
        stopped = false;
        stream.mark('recovered');
        const first = await stream.waitFor(
          (a) => typeof a.status === 'number' && a.status < 300,
          30_000,
          'a 2xx after PostgreSQL came back (the gateway must reconnect by itself)',
        );
        console.log(
          `PostgreSQL answered ${answeredAt - upAt} ms after pg_ctlcluster start was issued; ` +
            `first 2xx ${first.doneAt - upAt} ms after it was issued`,
        );
        const readyAfter = await gatewayReady(rig.gateway.url, 30_000);
        console.log(`gateway ready again ${readyAfter} ms after PostgreSQL answered`);
        await sleep(STREAM_MS);
        const figures = await finishScenario(
          'machine: PostgreSQL stopped ~4 s + started',
          rig,
          stream,
          {
            refusalsAllowed: true,
          },
        );
        const whileDown = stream.attempts.filter((a) => a.sentAt >= downAt && a.doneAt <= upAt);
        assert.ok(whileDown.length > 0, 'requests were sent while PostgreSQL was down');
        assert.ok(
          whileDown.some((a) => a.status === 503),
          'callbacks sent while PostgreSQL was down were refused with 503',
        );
        console.log(
          `${whileDown.length} requests sent and answered while PostgreSQL was down: ` +
            `${whileDown.filter((a) => a.status === 503).length} got 503`,
        );
        const acked = whileDown.filter((a) => typeof a.status === 'number' && a.status < 300);
        assert.deepEqual(
          acked,
          [],
          'no callback sent and answered while PostgreSQL was down got a 2xx',
        );
        assert.equal(rig.gateway.child.exitCode, null, 'the gateway survived the outage');
        assert.ok(figures.refused503 > 0);
      } catch (error) {
        console.error(rig.output());
        throw error;
      } finally {
        if (stopped) await ensureServicesUp();
        await rig.teardown();
      }
    });
  },
);
