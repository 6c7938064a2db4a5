import amqplib from 'amqplib';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queueOptions } from '../src/messaging/broker-topology.js';
import { AMQP_URL, deleteTopology, uniqueExchange } from './support/broker.js';
import { createTestDatabase } from './support/databases.js';
import { type GatewayProcess, spawnGateway } from './support/gateway-process.js';
import { metricValue, scrape } from './support/metrics.js';
import { uniqueRef } from './support/ppob-sidopulsa.js';
import {
  deleteQueues,
  startTopupSandbox,
  topupCommand,
  topupEnv,
  uniqueQueue,
  waitUntil,
} from './support/topups.js';

interface Declarations {
  [name: string]: { kind: string; state: string; detail: string | null };
}

/**
 * A platform team declared the gateway's queues before it, as classic queues; the gateway
 * (QUEUE_TYPE=quorum) must neither fight them nor refuse to start: it becomes ready, reports
 * each one (readiness body, metric, error log) and uses it as it is.
 */
describe('queues pre-declared with another type', () => {
  it('the gateway becomes ready, reports them and uses them', async () => {
    const db = await createTestDatabase('postgres');
    const sandbox = await startTopupSandbox();
    const exchange = uniqueExchange();
    const commandsQueue = uniqueQueue();
    const queues = [`${exchange}.unrouted`, commandsQueue, `${commandsQueue}.dead-letter`];
    const platform = await amqplib.connect(AMQP_URL);
    let gateway: GatewayProcess | null = null;
    try {
      const channel = await platform.createConfirmChannel();
      for (const queue of queues) await channel.assertQueue(queue, queueOptions('classic'));
      // A list of URLs: the first refuses, the gateway goes on to the next.
      gateway = await spawnGateway({
        ...db.env,
        ...topupEnv(sandbox.host.url, commandsQueue),
        EVENTS_EXCHANGE: exchange,
        LOG_LEVEL: 'warn',
        AMQP_URL: `amqp://guest:guest@127.0.0.1:1,${AMQP_URL}`,
      });
      sandbox.host.setGatewayUrl(gateway.url);
      let declarations: Declarations = {};
      await waitUntil(async () => {
        const res = await fetch(`${gateway!.url}/health/ready`);
        assert.equal(res.status, 200, 'ready: the queues are reported, not a reason for 503');
        const body = (await res.json()) as {
          info?: { broker?: { declarations?: Declarations } };
        };
        declarations = body.info?.broker?.declarations ?? {};
        return queues.every((q) => declarations[q]?.state === 'mismatch');
      }, 'every pre-declared queue reported as declared otherwise');
      assert.match(String(declarations[commandsQueue].detail), /inequivalent arg 'x-queue-type'/);
      const metrics = await scrape(gateway.url);
      for (const name of queues) {
        assert.equal(
          metricValue(metrics, 'gateway_broker_declaration_mismatch', { kind: 'queue', name }),
          1,
          name,
        );
      }
      const logged = new RegExp(
        `"level":50.*queue '${commandsQueue.replace(/\./g, '\\.')}' already exists with other arguments.*x-queue-type`,
      );
      await waitUntil(() => logged.test(gateway!.output()), 'an error log naming the queue');

      // It carries on with the existing queue: a command sent there is ordered.
      const reference = uniqueRef('P');
      const command = topupCommand({
        provider: 'ppob',
        reference,
        product: 'S10',
        destination: '08123214214',
      });
      channel.sendToQueue(commandsQueue, Buffer.from(JSON.stringify(command)), {
        persistent: true,
      });
      await channel.waitForConfirms();
      await waitUntil(
        async () =>
          (await db.query('SELECT 1 FROM topup_orders WHERE reference = $1', [reference]))
            .length === 1,
        'the command on the classic queue ordered',
      );
    } catch (error) {
      if (gateway) console.error(gateway.output().split('\n').slice(-40).join('\n'));
      throw error;
    } finally {
      gateway?.child.kill('SIGKILL');
      await gateway?.exited;
      await platform.close().catch(() => undefined);
      await sandbox.host.close();
      await deleteQueues(...queues);
      await deleteTopology(exchange).catch(() => undefined);
      await db.drop().catch(() => undefined);
    }
  });
});
