import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import assert from 'node:assert/strict';
import { setPriority } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { sleep, uniqueExchange } from '../support/broker.js';
import { createTestDatabase } from '../support/databases.js';
import { type GatewayProcess, spawnGateway } from '../support/gateway-process.js';
import { uniqueRef } from '../support/ppob-sidopulsa.js';
import { NICE, RabbitCluster, type RabbitNode, rabbitScripts } from '../support/rabbit-cluster.js';
import { TcpBalancer } from '../support/tcp-balancer.js';
import {
  startTopupSandbox,
  topupCommand,
  topupEnv,
  uniqueQueue,
  waitUntil,
} from '../support/topups.js';
import {
  acknowledgedButNotStored,
  computeFigures,
  drain,
  FAULT_ENV,
  FaultStream,
  printFigures,
  queryOnce,
  ResilientTap,
  waitOutboxEmpty,
} from './fault-stream.js';

/**
 * A real 3-node RabbitMQ cluster (extra nodes on their own ports and data directories, removed
 * afterwards; the machine's rabbit@ on 5672 is never touched) behind a round-robin TCP balancer,
 * as a Kubernetes Service would be. The gateway runs as a child process, so an exit would be
 * seen. Under a steady stream of genuine callbacks and top-up commands, kill -9 of the node the
 * gateway publishes through, then of the leader of its command queue, then of the leader of
 * its holding queue (each restarted before the next, so a majority always remains). The
 * queues pre-declared by a platform team: test/broker-queues.test.ts.
 */

// Short: the whole file must end within npm test's 120 s per file, cluster start included.
const KILLED_MS = 3_000;
const SETTLE_MS = 1_000;

interface ReadyProbe {
  at: number;
  status: number | 'network';
  publisher?: boolean;
  commands?: boolean;
}

interface ReadyBody {
  info?: { broker?: BrokerReport };
  details?: { broker?: BrokerReport };
}
interface BrokerReport {
  components?: Record<string, { connected: boolean }>;
  declarations?: Record<string, { kind: string; state: string; detail: string | null }>;
}

/** /health/ready every 100 ms: its status and the broker components it reports. */
class ReadinessWatch {
  readonly probes: ReadyProbe[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly url: string) {
    this.loop = this.watch();
  }

  private async watch(): Promise<void> {
    while (this.running) {
      const probe: ReadyProbe = { at: Date.now(), status: 'network' };
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
        probe.status = res.status;
        const body = (await res.json()) as ReadyBody;
        const components = (body.details ?? body.info)?.broker?.components ?? {};
        probe.publisher = components.publisher?.connected;
        probe.commands = components['topup-commands']?.connected;
      } catch {
        // counted as 'network'
      }
      this.probes.push(probe);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The longest run of probes in [from, to) where `field` was not true, in ms. */
  longestDown(field: 'publisher' | 'commands', from: number, to = Infinity): number {
    let longest = 0;
    let downSince: number | null = null;
    for (const p of this.probes.filter((q) => q.at >= from && q.at < to)) {
      if (p[field] !== true) downSince ??= p.at;
      else if (downSince !== null) {
        longest = Math.max(longest, p.at - downSince);
        downSince = null;
      }
    }
    if (downSince !== null) longest = Math.max(longest, Date.now() - downSince);
    return longest;
  }
}

/** Top-up commands sent one at a time on a confirm channel to any live node; confirmed ones kept. */
class CommandStream {
  readonly confirmed: Array<{ reference: string; at: number }> = [];
  failures = 0;
  private running = true;
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private turn = 0;
  private readonly loop: Promise<void>;

  constructor(
    private readonly cluster: RabbitCluster,
    private readonly queue: string,
    private readonly pauseMs = 200,
  ) {
    this.loop = this.send();
  }

  private async open(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const nodes = this.cluster.running();
    const node = nodes[this.turn++ % nodes.length];
    const connection = await amqplib.connect(node.url, { timeout: 3_000 });
    connection.on('error', () => undefined);
    connection.on('close', () => {
      this.connection = null;
      this.channel = null;
    });
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => (this.channel = null));
    this.connection = connection;
    this.channel = channel;
    return channel;
  }

  private async send(): Promise<void> {
    while (this.running) {
      const reference = uniqueRef('Q');
      try {
        const channel = await this.open();
        const body = topupCommand({
          provider: 'ppob',
          reference,
          product: 'S10',
          destination: '08123214214',
        });
        channel.sendToQueue(this.queue, Buffer.from(JSON.stringify(body)), {
          persistent: true,
          contentType: 'application/cloudevents+json',
        });
        await channel.waitForConfirms();
        this.confirmed.push({ reference, at: Date.now() });
      } catch {
        // not confirmed: the producer would retry; this one is not counted
        this.failures += 1;
        this.channel = null;
        await this.connection?.close().catch(() => undefined);
      }
      await sleep(this.pauseMs);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.connection?.close().catch(() => undefined);
  }
}

const skip = rabbitScripts() === null ? 'RabbitMQ is not installed on this machine' : false;

describe(
  'a 3-node RabbitMQ cluster: no broker node failure stops callback intake',
  { skip },
  () => {
    let cluster: RabbitCluster;
    let balancer: TcpBalancer;

    before(
      async () => {
        // Heavy (three brokers, a gateway, a stream): lower priority than the suites beside it;
        // the nodes, rabbitmqctl and the gateway inherit it.
        setPriority(NICE);
        const started = Date.now();
        cluster = await RabbitCluster.start(3);
        balancer = new TcpBalancer(
          cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.amqpPort })),
        );
        await balancer.start();
        console.log(
          `3-node cluster ${cluster.nodes.map((n) => `${n.name}:${n.amqpPort}`).join(', ')} up in ${Date.now() - started} ms; balancer on ${balancer.port}`,
        );
      },
      { timeout: 180_000 },
    );
    after(async () => {
      await balancer?.stop();
      await cluster?.stop();
    });

    it(
      'kill -9 of the node it publishes through and of its queues’ leaders: 0 lost, 0 refused, never 503, commands resume, no exit',
      { timeout: 240_000 },
      async () => {
        const db = await createTestDatabase('postgres');
        const sandbox = await startTopupSandbox();
        const exchange = uniqueExchange();
        const commandsQueue = uniqueQueue();
        const serviceName = `gwq-${exchange.slice(-6)}`;
        const tap = await ResilientTap.bind(exchange, {
          urls: cluster.nodes.map((n) => n.url),
          queueType: 'quorum',
        });
        let gateway: GatewayProcess | null = null;
        let watch: ReadinessWatch | null = null;
        let commands: CommandStream | null = null;
        let stream: FaultStream | null = null;
        try {
          gateway = await spawnGateway({
            ...FAULT_ENV,
            ...db.env,
            ...topupEnv(sandbox.host.url, commandsQueue),
            EVENTS_EXCHANGE: exchange,
            SERVICE_NAME: serviceName,
            AMQP_URL: `amqp://guest:guest@127.0.0.1:${balancer.port}`,
          });
          cluster.adopt(gateway.child.pid!);
          sandbox.host.setGatewayUrl(gateway.url);
          const exits: Array<number | null> = [];
          void gateway.exited.then((code) => exits.push(code));
          const url = gateway.url;
          watch = new ReadinessWatch(url);
          await waitUntil(
            () => watch!.probes.some((p) => p.publisher === true && p.commands === true),
            'the publisher and the command consumer connected',
            30_000,
          );
          // A steady stream, not a load test: other suites share the machine (npm test runs two at once).
          stream = new FaultStream(url, { senders: 2, pauseMs: 15 }).start();
          commands = new CommandStream(cluster, commandsQueue);
          await sleep(2_000);

          const holdingQueue = `${exchange}.unrouted`;
          const kills: Array<{ role: string; node: RabbitNode; at: number; back: number }> = [];
          const killAndRestart = async (role: string, node: RabbitNode | null) => {
            assert.ok(node, `found the node of: ${role}`);
            const at = Date.now();
            if (kills.length === 0) stream!.mark('fault');
            cluster.kill(node);
            await sleep(KILLED_MS);
            await cluster.startNode(node);
            kills.push({ role, node, at, back: Date.now() });
            await sleep(SETTLE_MS);
          };
          await killAndRestart(
            'the node the gateway publishes through',
            await cluster.nodeOfConnection(`${serviceName} publisher`),
          );
          await killAndRestart(
            `the leader of the command queue ${commandsQueue}`,
            await cluster.leaderOf(commandsQueue),
          );
          await killAndRestart(
            `the leader of the holding queue ${holdingQueue}`,
            await cluster.leaderOf(holdingQueue),
          );
          stream.mark('recovered');
          const lastKill = kills[kills.length - 1].at;
          await sleep(2_000);
          await commands.stop();
          const figures = await (async () => {
            await stream.stop();
            return computeFigures(
              'RabbitMQ cluster: kill -9 of 3 nodes in turn',
              stream,
              tap,
              await drain(stream, tap, 60_000),
            );
          })();
          printFigures(figures);

          // Commands: every one the broker confirmed is ordered; those sent after the kills placed.
          const references = commands.confirmed.map((c) => c.reference);
          const ordered = () =>
            queryOnce<{ reference: string; placement: string }>(
              db.env.DATABASE_URL,
              'SELECT reference, placement FROM topup_orders WHERE reference = ANY($1)',
              [references],
            );
          await waitUntil(
            async () => (await ordered()).length === references.length,
            'every confirmed command ordered',
            30_000,
          ).catch(() => undefined);
          const orders = await ordered();
          const afterKills = commands.confirmed
            .filter((c) => c.at > lastKill)
            .map((c) => c.reference);
          await waitUntil(
            async () =>
              (await ordered()).filter(
                (o) => afterKills.includes(o.reference) && o.placement === 'placed',
              ).length > 0,
            'a command sent after the last kill placed',
            30_000,
          ).catch(() => undefined);
          const placedAfter = (await ordered()).filter(
            (o) => afterKills.includes(o.reference) && o.placement === 'placed',
          ).length;
          await watch.stop();

          const notReady = watch.probes.filter((p) => p.status !== 200);
          const rows = kills.map((k) => ({
            killed: `${k.node.name} (${k.role})`,
            'publisher down ms': watch!.longestDown('publisher', k.at - 500, k.back),
            'command consumer down ms': watch!.longestDown('commands', k.at - 500, k.back),
          }));
          console.log(
            [
              '',
              ...rows.map(
                (r) =>
                  `killed ${r.killed}: publisher not connected for ${r['publisher down ms']} ms, command consumer for ${r['command consumer down ms']} ms`,
              ),
              `top-up commands: ${references.length} confirmed by the broker (${commands.failures} not confirmed, not counted), ${orders.length} ordered, ${afterKills.length} sent after the last kill of which ${placedAfter} placed`,
              `readiness: ${watch.probes.length} probes, ${notReady.length} not 200; gateway exits: ${exits.length}`,
              '',
            ].join('\n'),
          );

          assert.deepEqual(exits, [], 'the gateway process never exited');
          assert.equal(gateway.child.exitCode, null);
          assert.ok(figures.phases[0]['2xx'] >= 20, 'a real stream ran before the first kill');
          assert.deepEqual(await acknowledgedButNotStored(db.env.DATABASE_URL, stream), []);
          assert.deepEqual(
            figures.lost,
            [],
            'every acknowledged callback reached the consumer queue',
          );
          assert.equal(figures.refused503, 0, 'no callback refused while only the broker failed');
          assert.equal(figures.networkErrors, 0);
          assert.equal(figures.otherStatuses, 0, figures.otherDetail);
          assert.equal(await waitOutboxEmpty(db.env.DATABASE_URL, 20_000), 0);
          assert.deepEqual(
            notReady.map((p) => p.status),
            [],
            'readiness never 503 for the broker',
          );
          assert.deepEqual(
            references.filter((r) => !orders.some((o) => o.reference === r)),
            [],
            'every command the broker confirmed was ordered',
          );
          assert.ok(
            afterKills.length > 0 && placedAfter > 0,
            'top-up commands resumed after the kills',
          );
        } catch (error) {
          if (gateway) console.error(gateway.output().split('\n').slice(-80).join('\n'));
          throw error;
        } finally {
          await stream?.stop();
          await commands?.stop();
          await watch?.stop();
          gateway?.child.kill('SIGKILL');
          await gateway?.exited;
          if (gateway?.child.pid) cluster.release(gateway.child.pid);
          await tap.close();
          await sandbox.host.close();
          await db.drop().catch(() => undefined);
        }
      },
    );
  },
);
