import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, afterEach } from 'node:test';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { deleteTopology, EventTap, sleep, uniqueExchange } from '../support/broker.js';
import { PPOB } from '../support/credentials.js';
import { type RunningGateway, startGateway } from '../support/gateway.js';
import { callbackUrl } from '../support/ppob-sidopulsa.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { type Cluster, cleanupClusters, createPair, leftoverClusters } from './pg-cluster.js';

/**
 * PostgreSQL failovers on real clusters: a primary and a standby created for the suite
 * (pg_createcluster on their own ports, pg_basebackup -R), a relay in front as CloudNativePG's
 * `-rw` Service would be (repointed after the promotion; connections already open stay where they
 * were), and an in-process gateway on it under a steady stream of genuine PPOB callbacks, each
 * transaction a `Pending` then a `Success`, re-sent on anything but a 2xx as a provider does.
 * Prints the figures docs/operations.md quotes.
 */

const DATABASE = 'gateway';
const BEFORE_MS = 3_000;
const AFTER_MS = 3_000;

interface Attempt {
  ref: string;
  status: 'pending' | 'succeeded';
  eventId: string;
  http: number | 'network';
  sentAt: number;
  doneAt: number;
}

/** Senders, each walking transactions through Pending → Success, re-sending until a 2xx. */
class CallbackStream {
  readonly attempts: Attempt[] = [];
  private running = true;
  private readonly workers: Promise<void>[];

  constructor(
    private readonly baseUrl: string,
    senders = 6,
  ) {
    this.workers = Array.from({ length: senders }, () => this.sender());
  }

  private async deliver(ref: string, status: 'pending' | 'succeeded'): Promise<void> {
    const fields = {
      ref_id: ref,
      status: status === 'pending' ? 'Pending' : 'Success',
      sn: status === 'pending' ? '' : '0512345678901234',
      code: 'S10',
      destination: '08123214214',
    };
    const eventId = eventIdFor('ppob', 'default', ref, status);
    for (;;) {
      const attempt: Attempt = {
        ref,
        status,
        eventId,
        http: 'network',
        sentAt: Date.now(),
        doneAt: 0,
      };
      try {
        const res = await fetch(callbackUrl(this.baseUrl, 'ppob', fields, { token: PPOB.token }), {
          signal: AbortSignal.timeout(20_000),
        });
        await res.arrayBuffer();
        attempt.http = res.status;
      } catch {
        attempt.http = 'network';
      }
      attempt.doneAt = Date.now();
      this.attempts.push(attempt);
      if (typeof attempt.http === 'number' && attempt.http < 300) return;
      if (!this.running) return;
      await sleep(100);
    }
  }

  private async sender(): Promise<void> {
    while (this.running) {
      const ref = `F-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`.toUpperCase();
      await this.deliver(ref, 'pending');
      await sleep(100 + Math.random() * 400);
      await this.deliver(ref, 'succeeded');
      await sleep(20);
    }
  }

  acked(): Attempt[] {
    return this.attempts.filter((a) => typeof a.http === 'number' && a.http < 300);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  async waitForAck(after: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.acked().find((a) => a.sentAt >= after);
      if (hit) return hit.doneAt;
      if (Date.now() > deadline) throw new Error(`no 2xx within ${timeoutMs} ms after the fault`);
      await sleep(20);
    }
  }
}

/**
 * A relay that delivers what the primary sends `lagMs` late, and drops what it still holds when
 * the primary dies: a standby that far behind on an asynchronous link.
 */
class LaggingRelay {
  private server: net.Server | null = null;

  constructor(
    private readonly targetPort: number,
    private readonly lagMs: number,
  ) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      let dead = false;
      const die = () => {
        dead = true;
        client.destroy();
        upstream.destroy();
      };
      client.on('error', die);
      upstream.on('error', die);
      upstream.on('close', die);
      client.on('close', die);
      client.on('data', (chunk: Buffer) => upstream.write(chunk));
      upstream.on('data', (chunk: Buffer) => {
        setTimeout(() => {
          if (!dead) client.write(chunk);
        }, this.lagMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): void {
    this.server?.close();
  }
}

interface ScenarioFigures {
  scenario: string;
  sent: number;
  acknowledged: number;
  refused503: number;
  otherStatuses: number;
  networkErrors: number;
  secondsWithout2xx: number;
  acknowledgedLost: number;
  versionChecks: number;
  versionsLower: number;
}

/** Every event of a transaction received after the failover has a version above all before it. */
function checkVersions(
  events: Array<Record<string, any>>, // eslint-disable-line @typescript-eslint/no-explicit-any
  faultAt: number,
  recoveredAt: number,
): { checks: number; lower: string[] } {
  const bySubject = new Map<
    string,
    Array<{ version: number; receivedAt: number; status: string }>
  >();
  for (const e of events) {
    const list = bySubject.get(e.subject) ?? [];
    list.push({
      version: Number(e.data.transactionVersion),
      receivedAt: Date.parse(e.data.receivedAt),
      status: e.data.status,
    });
    bySubject.set(e.subject, list);
  }
  let checks = 0;
  const lower: string[] = [];
  for (const [subject, list] of bySubject) {
    const before = list.filter((e) => e.receivedAt < faultAt);
    const afterwards = list.filter((e) => e.receivedAt >= recoveredAt);
    if (before.length === 0 || afterwards.length === 0) continue;
    const highest = Math.max(...before.map((e) => e.version));
    for (const e of afterwards) {
      checks += 1;
      if (!(e.version > highest)) lower.push(`${subject}: ${e.status} v${e.version} ≤ v${highest}`);
    }
  }
  return { checks, lower };
}

function print(figures: ScenarioFigures): void {
  console.log(
    `[database failover] ${figures.scenario}: ${figures.sent} sent, ${figures.acknowledged} acknowledged, ` +
      `${figures.refused503} answered 503, ${figures.networkErrors} network errors, ${figures.otherStatuses} other; ` +
      `${figures.secondsWithout2xx.toFixed(1)} s without a 2xx; ` +
      `${figures.acknowledgedLost} acknowledged callbacks lost; ` +
      `${figures.versionChecks} post-failover events checked, ${figures.versionsLower} with a version not above the earlier ones`,
  );
}

/**
 * Registers cleanup hooks for the calling test file and returns the scenario runner: clusters,
 * relay, gateway, stream and tap are created per scenario and removed after it, failures included.
 */
export function failoverScenarios() {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await Promise.resolve(step()).catch(() => undefined);
    cleanups.length = 0;
    cleanupClusters();
  };
  afterEach(cleanup);
  after(async () => {
    await cleanup();
    assert.deepEqual(leftoverClusters(), [], 'every extra cluster was dropped');
  });

  return async function scenario(
    name: string,
    options: {
      tag: string;
      synchronous: boolean;
      lagMs?: number;
      fault: (primary: Cluster) => void;
    },
  ) {
    let relay: LaggingRelay | null = null;
    const { primary, standby } = await createPair(options.tag, {
      synchronous: options.synchronous,
      database: DATABASE,
      replicationVia: options.lagMs
        ? async (port) => {
            relay = new LaggingRelay(port, options.lagMs!);
            cleanups.push(() => relay?.close());
            return relay.start();
          }
        : undefined,
    });
    const proxy = new TcpProxy('127.0.0.1', primary.port);
    await proxy.start();
    cleanups.push(() => proxy.cut());
    const exchange = uniqueExchange();
    cleanups.push(() => deleteTopology(exchange));
    const tap = await EventTap.bind(exchange);
    cleanups.push(() => tap.close());
    const gateway: RunningGateway = await startGateway({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/${DATABASE}`,
      EVENTS_EXCHANGE: exchange,
    });
    cleanups.push(() => gateway.close());
    await gateway.brokerReady();

    const stream = new CallbackStream(gateway.url);
    await sleep(BEFORE_MS);
    const faultAt = Date.now();
    options.fault(primary);
    // What an operator (CloudNativePG, Patroni) does: promote the standby, move the endpoint.
    standby.promote();
    proxy.repoint('127.0.0.1', standby.port);
    const repointedAt = Date.now();
    const firstAck = await stream.waitForAck(faultAt, 60_000);
    await sleep(AFTER_MS);
    await stream.stop();
    const recoveredAt = repointedAt;

    const ackedIds = [...new Set(stream.acked().map((a) => a.eventId))];
    const kept = await standby.query<{ event_id: string }>(
      `SELECT event_id FROM callbacks WHERE event_id = ANY($1)`,
      [ackedIds],
      DATABASE,
    );
    const keptIds = new Set(kept.map((r) => r.event_id));
    const lost = ackedIds.filter((id) => !keptIds.has(id));
    // Everything the new primary holds is published (the relay catches up on its own).
    await sleep(2_000);
    const versions = checkVersions(tap.bodies(), faultAt, recoveredAt);
    const attempts = stream.attempts;
    let gap = 0;
    const acks = stream
      .acked()
      .map((a) => a.doneAt)
      .sort((a, b) => a - b);
    for (let i = 1; i < acks.length; i += 1) gap = Math.max(gap, acks[i] - acks[i - 1]);
    const figures: ScenarioFigures = {
      scenario: name,
      sent: attempts.length,
      acknowledged: ackedIds.length,
      refused503: attempts.filter((a) => a.http === 503).length,
      otherStatuses: attempts.filter(
        (a) => typeof a.http === 'number' && a.http >= 300 && a.http !== 503,
      ).length,
      networkErrors: attempts.filter((a) => a.http === 'network').length,
      secondsWithout2xx: gap / 1000,
      acknowledgedLost: lost.length,
      versionChecks: versions.checks,
      versionsLower: versions.lower.length,
    };
    print(figures);
    console.log(
      `[database failover] ${name}: fault → endpoint repointed ${repointedAt - faultAt} ms, → first 2xx ${firstAck - faultAt} ms`,
    );
    const ready = await fetch(`${gateway.url}/health/ready`);
    assert.equal(ready.status, 200, 'ready again on the new primary, without a restart');
    return { figures, versions, lost };
  };
}
