import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { FaultStream, finishScenario, killAndRestartScenario, Rig } from './fault-stream.js';

/**
 * Fault injection that never touches this machine's services: the gateway process is killed
 * with SIGKILL, and PostgreSQL / RabbitMQ outages are simulated by cutting a TCP proxy in front
 * of them. The real service stops are in machine-services.test.ts (npm run test:faults).
 */

const STREAM_MS = 1_500;
const OUTAGE_MS = 3_000;

/** postgres://…@127.0.0.1:5432/db → the same database through the proxy's port. */
function throughProxy(url: string, port: number): string {
  const proxied = new URL(url);
  proxied.port = String(port);
  return proxied.toString();
}

describe('fault injection (simulated outages, safe beside other suites)', () => {
  it('kill -9 of the gateway mid-stream: after a restart on the same port and database, no acknowledged callback is lost', async () => {
    await killAndRestartScenario('fast: kill -9 gateway + restart', STREAM_MS);
  });

  it('PostgreSQL unreachable (TCP proxy cut ~3 s): 503 while cut, never a 2xx that was not stored; recovers; none lost', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5432);
    const port = await proxy.start();
    const rig = await Rig.create((env) => ({ DATABASE_URL: throughProxy(env.DATABASE_URL, port) }));
    try {
      const stream = new FaultStream(rig.gateway.url).start();
      await sleep(STREAM_MS);
      stream.mark('fault');
      await proxy.cut();
      const cutAt = Date.now();
      await sleep(OUTAGE_MS);
      const restoreAt = Date.now();
      await proxy.restore();
      stream.mark('recovered');
      await stream.waitFor(
        (a) => typeof a.status === 'number' && a.status < 300,
        10_000,
        'a 2xx after the database came back',
      );
      await sleep(STREAM_MS);
      const figures = await finishScenario('fast: PostgreSQL cut ~3 s (TCP proxy)', rig, stream, {
        refusalsAllowed: true,
      });
      assert.ok(
        figures.phases[1]['refused 503'] >= 1,
        'callbacks sent during the cut were refused with 503',
      );
      const whileCut = stream.attempts.filter((a) => a.sentAt >= cutAt && a.doneAt <= restoreAt);
      console.log(
        `${whileCut.length} requests sent and answered while the database was cut: ` +
          `${whileCut.filter((a) => a.status === 503).length} got 503`,
      );
      const ackedWhileCut = whileCut.filter((a) => typeof a.status === 'number' && a.status < 300);
      assert.ok(whileCut.length > 0, 'requests were sent while the database was unreachable');
      assert.deepEqual(
        ackedWhileCut,
        [],
        'no callback sent and answered while the database was cut got a 2xx',
      );
    } catch (error) {
      console.error(rig.output());
      throw error;
    } finally {
      await proxy.restore();
      await rig.teardown();
      await proxy.cut();
    }
  });

  it('RabbitMQ unreachable (TCP proxy cut ~3 s): callbacks still acknowledged, published once it is back; none lost', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5672);
    const port = await proxy.start();
    const rig = await Rig.create((env) => ({
      ...env,
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}`,
    }));
    try {
      const stream = new FaultStream(rig.gateway.url).start();
      await sleep(STREAM_MS);
      stream.mark('fault');
      await proxy.cut();
      await sleep(OUTAGE_MS);
      await proxy.restore();
      stream.mark('recovered');
      await sleep(STREAM_MS);
      const figures = await finishScenario('fast: RabbitMQ cut ~3 s (TCP proxy)', rig, stream);
      assert.ok(
        figures.phases[1]['2xx'] > 0,
        'callbacks were acknowledged while the broker was unreachable',
      );
    } catch (error) {
      console.error(rig.output());
      throw error;
    } finally {
      await proxy.restore();
      await rig.teardown();
      await proxy.cut();
    }
  });
});
