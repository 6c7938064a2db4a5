import amqplib, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import pg from 'pg';
import assert from 'node:assert/strict';
import { AMQP_URL, deleteTopology, sleep, uniqueExchange } from '../support/broker.js';
import { PROVIDERS, type Provider, send, signedCallback } from '../support/callbacks.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type GatewayProcess, spawnGateway } from '../support/gateway-process.js';

/** One request of the stream, as the sending provider saw it. */
export interface Attempt {
  provider: Provider;
  eventId: string;
  /** HTTP status, or 'network' when no answer came back (refused, reset, timeout). */
  status: number | 'network';
  error?: string;
  sentAt: number;
  doneAt: number;
}

export interface StreamOptions {
  /** Concurrent senders, each cycling through the five providers. */
  senders?: number;
  /** Pause of each sender between two requests (a steady stream, not a load test). */
  pauseMs?: number;
  /** Pause after a network error, so a dead gateway is not hammered in a tight loop. */
  errorPauseMs?: number;
  requestTimeoutMs?: number;
}

const isAck = (a: Attempt) => typeof a.status === 'number' && a.status >= 200 && a.status < 300;

/**
 * A steady stream of genuine signed callbacks from `senders` concurrent providers, recording
 * every request: provider, event id, status (or network error), send and answer times.
 */
export class FaultStream {
  readonly attempts: Attempt[] = [];
  readonly marks = new Map<string, number>();
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly options: Required<StreamOptions>;

  constructor(
    private readonly baseUrl: string,
    options: StreamOptions = {},
  ) {
    this.options = {
      senders: 4,
      pauseMs: 5,
      errorPauseMs: 25,
      requestTimeoutMs: 15_000,
      ...options,
    };
  }

  start(): this {
    this.running = true;
    this.mark('start');
    this.workers = Array.from({ length: this.options.senders }, (_, i) => this.sender(i));
    return this;
  }

  /** Stops sending and waits for every request in flight to be answered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.mark('stop');
  }

  /** Records the time of a moment of the scenario (fault start, recovery, …). */
  mark(name: string): number {
    const now = Date.now();
    this.marks.set(name, now);
    return now;
  }

  acknowledged(): Attempt[] {
    return this.attempts.filter(isAck);
  }

  /** Waits until `predicate` holds for some attempt answered after now (e.g. a 2xx again). */
  async waitFor(
    predicate: (a: Attempt) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Attempt> {
    const from = Date.now();
    const deadline = from + timeoutMs;
    for (;;) {
      const hit = this.attempts.find((a) => a.doneAt >= from && predicate(a));
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(20);
    }
  }

  private async sender(index: number): Promise<void> {
    let turn = index;
    while (this.running) {
      const provider = PROVIDERS[turn % PROVIDERS.length];
      turn += 1;
      const callback = signedCallback(provider);
      const sentAt = Date.now();
      const attempt: Attempt = {
        provider,
        eventId: callback.eventId,
        status: 'network',
        sentAt,
        doneAt: 0,
      };
      try {
        const res = await send(this.baseUrl, callback, {}).then(async (r) => {
          await r.arrayBuffer();
          return r;
        });
        attempt.status = res.status;
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        attempt.error = cause?.code ?? cause?.message ?? (error as Error).message;
      }
      attempt.doneAt = Date.now();
      this.attempts.push(attempt);
      await sleep(attempt.status === 'network' ? this.options.errorPauseMs : this.options.pauseMs);
    }
  }
}

/** One delivery seen by the tap. */
export interface Delivery {
  eventId: string;
  at: number;
  redelivered: boolean;
}

export interface TapOptions {
  urls?: string[];
  queueType?: 'classic' | 'quorum';
}

/**
 * What a downstream consumer sees: a durable queue bound to the events exchange, consumed with
 * acks and reconnecting on its own, so it survives a RabbitMQ stop/start (an exclusive queue
 * would vanish with the connection). The exchange is declared with the gateway's own arguments,
 * so bind the tap BEFORE starting the gateway.
 */
export class ResilientTap {
  readonly deliveries: Delivery[] = [];
  private readonly seenIds = new Map<string, number>();
  /** Deliveries the broker redelivered after the tap lost its connection before acking. */
  tapRedeliveries = 0;
  reconnects = 0;
  private connection: ChannelModel | null = null;
  private channel: Channel | null = null;
  private closed = false;
  private reconnecting: Promise<void> | null = null;
  readonly queue: string;

  private attempts = 0;

  private constructor(
    readonly exchange: string,
    private readonly options: TapOptions,
  ) {
    this.queue = `${exchange}.fault-tap`;
  }

  /** `urls` (tried in turn, e.g. a cluster's nodes) default to AMQP_URL; the queue is classic. */
  static async bind(exchange: string, options: TapOptions = {}): Promise<ResilientTap> {
    const tap = new ResilientTap(exchange, options);
    await tap.connect();
    return tap;
  }

  private async connect(): Promise<void> {
    const urls = this.options.urls ?? [AMQP_URL];
    const connection = await amqplib.connect(urls[this.attempts++ % urls.length], {
      timeout: 5_000,
    });
    connection.on('error', () => undefined);
    connection.on('close', () => this.lost());
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.assertExchange(this.exchange, 'topic', {
      durable: true,
      alternateExchange: `${this.exchange}.unrouted`,
    });
    await channel.assertQueue(this.queue, {
      durable: true,
      arguments: { 'x-queue-type': this.options.queueType ?? 'classic' },
    });
    await channel.bindQueue(this.queue, this.exchange, '#');
    await channel.prefetch(500);
    await channel.consume(this.queue, (msg) => msg && this.receive(channel, msg), { noAck: false });
    this.connection = connection;
    this.channel = channel;
  }

  private receive(channel: Channel, msg: ConsumeMessage): void {
    const eventId = String(msg.properties.messageId);
    const seen = this.seenIds.has(eventId);
    if (msg.fields.redelivered && seen) {
      // The broker re-sent what we had received but not acked: an artefact of the tap, not a repeat.
      this.tapRedeliveries += 1;
    } else {
      const at = Date.now();
      this.deliveries.push({ eventId, at, redelivered: msg.fields.redelivered });
      if (!seen) this.seenIds.set(eventId, at);
    }
    try {
      channel.ack(msg);
    } catch {
      // connection gone; the broker will redeliver
    }
  }

  private lost(): void {
    this.connection = null;
    this.channel = null;
    if (this.closed || this.reconnecting) return;
    this.reconnecting = (async () => {
      while (!this.closed) {
        await sleep(500);
        try {
          await this.connect();
          this.reconnects += 1;
          break;
        } catch {
          // broker not back yet
        }
      }
      this.reconnecting = null;
    })();
  }

  /** First delivery time of every event id seen so far. */
  firstSeen(): ReadonlyMap<string, number> {
    return this.seenIds;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reconnecting;
    try {
      await this.channel?.deleteQueue(this.queue);
    } catch {
      // best effort
    }
    await this.connection?.close().catch(() => undefined);
  }
}

/**
 * Waits until every acknowledged event id has been seen on the tap (or `timeoutMs` passed), then
 * `settleMs` longer to catch late repeats. Returns how long the drain took.
 */
export async function drain(
  stream: FaultStream,
  tap: ResilientTap,
  timeoutMs = 30_000,
  settleMs = 1_000,
): Promise<number> {
  const started = Date.now();
  const wanted = new Set(stream.acknowledged().map((a) => a.eventId));
  const deadline = started + timeoutMs;
  while (Date.now() < deadline) {
    const seen = tap.firstSeen();
    if ([...wanted].every((id) => seen.has(id))) break;
    await sleep(50);
  }
  await sleep(settleMs);
  return Date.now() - started;
}

export interface PhaseFigures {
  phase: string;
  sent: number;
  '2xx': number;
  'refused 503': number;
  'network error': number;
  other: number;
}

export interface Figures {
  scenario: string;
  phases: PhaseFigures[];
  sent: number;
  acknowledged: number;
  refused503: number;
  networkErrors: number;
  otherStatuses: number;
  otherDetail: string;
  publishedDistinct: number;
  publishedUnacknowledged: number;
  lost: string[];
  repeats: number;
  tapRedeliveries: number;
  maxPublishAfterRecoveryMs: number;
  maxAckToPublishMs: number;
  drainMs: number;
}

/**
 * Figures of one scenario. Phases split the requests by send time around the marks
 * `fault` (fault injected) and `recovered` (service back): before, during, after.
 */
export function computeFigures(
  scenario: string,
  stream: FaultStream,
  tap: ResilientTap,
  drainMs: number,
): Figures {
  const faultAt = stream.marks.get('fault') ?? Infinity;
  const recoveredAt = stream.marks.get('recovered') ?? faultAt;
  const count = (list: Attempt[], phase: string): PhaseFigures => ({
    phase,
    sent: list.length,
    '2xx': list.filter(isAck).length,
    'refused 503': list.filter((a) => a.status === 503).length,
    'network error': list.filter((a) => a.status === 'network').length,
    other: list.filter((a) => a.status !== 'network' && a.status !== 503 && !isAck(a)).length,
  });
  const all = stream.attempts;
  const phases = [
    count(
      all.filter((a) => a.sentAt < faultAt),
      'before fault',
    ),
    count(
      all.filter((a) => a.sentAt >= faultAt && a.sentAt < recoveredAt),
      'during fault',
    ),
    count(
      all.filter((a) => a.sentAt >= recoveredAt),
      'after recovery',
    ),
    count(all, 'total'),
  ];

  const ours = new Set(all.map((a) => a.eventId));
  const deliveries = tap.deliveries.filter((d) => ours.has(d.eventId));
  const first = tap.firstSeen();
  const acked = stream.acknowledged();
  const ackedIds = new Set(acked.map((a) => a.eventId));
  let maxAfterRecovery = 0;
  let maxAckToPublish = 0;
  for (const a of acked) {
    const seen = first.get(a.eventId);
    if (seen === undefined) continue;
    maxAckToPublish = Math.max(maxAckToPublish, seen - a.doneAt);
    maxAfterRecovery = Math.max(maxAfterRecovery, seen - Math.max(a.doneAt, recoveredAt));
  }
  const others = all.filter((a) => a.status !== 'network' && a.status !== 503 && !isAck(a));
  const otherByStatus = new Map<string, number>();
  for (const a of others)
    otherByStatus.set(String(a.status), (otherByStatus.get(String(a.status)) ?? 0) + 1);
  const publishedIds = new Set(deliveries.map((d) => d.eventId));
  return {
    scenario,
    phases,
    sent: all.length,
    acknowledged: acked.length,
    refused503: phases[3]['refused 503'],
    networkErrors: phases[3]['network error'],
    otherStatuses: others.length,
    otherDetail: [...otherByStatus].map(([s, n]) => `${s}×${n}`).join(', '),
    publishedDistinct: publishedIds.size,
    publishedUnacknowledged: [...publishedIds].filter((id) => !ackedIds.has(id)).length,
    lost: [...ackedIds].filter((id) => !first.has(id)),
    repeats: deliveries.length - publishedIds.size,
    tapRedeliveries: tap.tapRedeliveries,
    maxPublishAfterRecoveryMs: maxAfterRecovery,
    maxAckToPublishMs: maxAckToPublish,
    drainMs,
  };
}

function alignedTable(rows: Array<Record<string, string | number>>): string {
  const headers = Object.keys(rows[0] ?? {});
  const cells = [headers, ...rows.map((r) => headers.map((h) => String(r[h])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  return [
    line(cells[0]),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** The figures as aligned text tables, labelled with the scenario. */
export function formatFigures(f: Figures): string {
  const summary: Array<Record<string, string | number>> = [
    { figure: 'sent', value: f.sent },
    { figure: 'acknowledged (2xx)', value: f.acknowledged },
    { figure: 'refused 503', value: f.refused503 },
    { figure: 'network errors', value: f.networkErrors },
    {
      figure: 'other statuses',
      value: f.otherStatuses + (f.otherDetail ? ` (${f.otherDetail})` : ''),
    },
    { figure: 'published distinct', value: f.publishedDistinct },
    { figure: '  of which never acknowledged', value: f.publishedUnacknowledged },
    { figure: 'LOST (2xx, never published)', value: f.lost.length },
    { figure: 'repeats (deliveries beyond 1st)', value: f.repeats },
    { figure: 'max publish delay after recovery', value: `${f.maxPublishAfterRecoveryMs} ms` },
    { figure: 'max ack-to-publish', value: `${f.maxAckToPublishMs} ms` },
    { figure: 'drain time', value: `${f.drainMs} ms` },
  ];
  return [
    '',
    `=== ${f.scenario} — ${new Date().toISOString()} ===`,
    alignedTable(f.phases as unknown as Array<Record<string, string | number>>),
    '',
    alignedTable(summary),
    '',
  ].join('\n');
}

export function printFigures(f: Figures): void {
  console.log(formatFigures(f));
}

/** Runs one SQL statement on its own short-lived connection (no pool whose idle clients could error). */
export async function queryOnce<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Acknowledged event ids that have no outbox row: acknowledged without being stored. */
export async function acknowledgedButNotStored(
  url: string,
  stream: FaultStream,
): Promise<string[]> {
  const acknowledged = stream.acknowledged();
  const ids = [...new Set(acknowledged.map((a) => a.eventId))];
  if (ids.length === 0) return [];
  const rows = await queryOnce<{ event_id: string }>(
    url,
    'SELECT event_id FROM outbox WHERE event_id = ANY($1)',
    [ids],
  );
  const stored = new Set(rows.map((r) => r.event_id));
  const providerOf = new Map(acknowledged.map((a) => [a.eventId, a.provider]));
  // Each id with its provider, so a failure says whose callbacks went missing.
  return ids.filter((id) => !stored.has(id)).map((id) => `${providerOf.get(id)} ${id}`);
}

/** Waits until the outbox has no unpublished row; returns how many are left at the deadline. */
export async function waitOutboxEmpty(url: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ n }] = await queryOnce<{ n: string }>(
      url,
      'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    if (Number(n) === 0 || Date.now() > deadline) return Number(n);
    await sleep(200);
  }
}

/** Settings every fault scenario runs the gateway with. */
export const FAULT_ENV: Record<string, string> = {
  OUTBOX_LEASE_MS: '2000',
  OUTBOX_SWEEP_INTERVAL_MS: '250',
  PUBLISH_TIMEOUT_MS: '3000',
  LOG_LEVEL: 'warn',
};

/**
 * One scenario's world: a fresh PostgreSQL database (created up front, so it exists before any
 * outage), a unique exchange with a resilient tap bound before the gateway starts, and the real
 * gateway process.
 */
export class Rig {
  gateway!: GatewayProcess;
  /** Every gateway process this rig started (a kill -9 scenario has two). */
  readonly outputs: Array<() => string> = [];
  private constructor(
    readonly db: TestDatabase,
    readonly exchange: string,
    readonly tap: ResilientTap,
    readonly env: Record<string, string>,
  ) {}

  /** `gatewayEnv` may rewrite the database's env (e.g. point DATABASE_URL at a proxy). */
  static async create(
    gatewayEnv: (dbEnv: Record<string, string>) => Record<string, string> = (e) => e,
  ): Promise<Rig> {
    const db = await createTestDatabase('postgres');
    const exchange = uniqueExchange();
    const tap = await ResilientTap.bind(exchange);
    const rig = new Rig(db, exchange, tap, {
      ...FAULT_ENV,
      ...gatewayEnv(db.env),
      EVENTS_EXCHANGE: exchange,
    });
    try {
      rig.gateway = await spawnGateway(rig.env);
    } catch (error) {
      await rig.teardown();
      throw error;
    }
    rig.outputs.push(rig.gateway.output);
    return rig;
  }

  /** The database as the test reaches it directly (never through a proxy). */
  get databaseUrl(): string {
    return this.db.env.DATABASE_URL;
  }

  /** kill -9 the gateway, wait for it to die, and start a new one on the same port and database. */
  async killAndRestart(stream: FaultStream): Promise<void> {
    const { port } = this.gateway;
    stream.mark('fault');
    this.gateway.child.kill('SIGKILL');
    const code = await this.gateway.exited;
    assert.equal(code, null, 'the gateway died of the signal');
    this.gateway = await spawnGateway(this.env, port);
    this.outputs.push(this.gateway.output);
    stream.mark('recovered');
  }

  output(): string {
    return this.outputs.map((o, i) => `--- gateway #${i + 1} ---\n${o()}`).join('\n');
  }

  async teardown(): Promise<void> {
    const child = this.gateway?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.gateway.exited;
      clearTimeout(timer);
    }
    await this.tap.close();
    await deleteTopology(this.exchange).catch(() => undefined);
    await this.db.drop().catch(() => undefined);
  }
}

export interface ScenarioChecks {
  /** Network errors are expected only when the gateway itself is killed. */
  networkErrorsAllowed?: boolean;
  /** 503s are expected only during a database outage. */
  refusalsAllowed?: boolean;
}

/**
 * Stops the stream, drains, prints the figures and checks what must hold after any fault: every
 * acknowledged callback was stored and published (none lost), nothing but 2xx/503 answered, the
 * stream was running before the fault and acknowledged again after recovery, and the outbox ends
 * empty. Returns the figures for scenario-specific checks.
 */
export async function finishScenario(
  scenario: string,
  rig: Rig,
  stream: FaultStream,
  checks: ScenarioChecks = {},
): Promise<Figures> {
  await stream.stop();
  const drainMs = await drain(stream, rig.tap);
  const figures = computeFigures(scenario, stream, rig.tap, drainMs);
  printFigures(figures);
  const notStored = await acknowledgedButNotStored(rig.databaseUrl, stream);
  const unpublished = await waitOutboxEmpty(rig.databaseUrl);
  const [before, , after] = figures.phases;
  assert.ok(
    before['2xx'] >= 20,
    `a real stream was running before the fault (${before['2xx']} acknowledged)`,
  );
  assert.ok(after['2xx'] > 0, 'callbacks were acknowledged again after recovery');
  assert.deepEqual(
    notStored,
    [],
    `${notStored.length} callbacks got a 2xx but are not in the database`,
  );
  assert.deepEqual(
    figures.lost,
    [],
    `${figures.lost.length} of ${figures.acknowledged} acknowledged callbacks were never published`,
  );
  assert.equal(figures.otherStatuses, 0, `unexpected statuses: ${figures.otherDetail}`);
  if (!checks.networkErrorsAllowed)
    assert.equal(figures.networkErrors, 0, 'no request failed at the network level');
  if (!checks.refusalsAllowed) assert.equal(figures.refused503, 0, 'no callback was refused');
  assert.equal(unpublished, 0, 'nothing left unpublished in the outbox');
  return figures;
}

/**
 * kill -9 of the gateway mid-stream, then a restart on the same port and database: every
 * acknowledged callback must still be published. Shared by the fast and the machine suites.
 */
export async function killAndRestartScenario(label: string, streamMs: number): Promise<void> {
  const rig = await Rig.create();
  try {
    const stream = new FaultStream(rig.gateway.url).start();
    await sleep(streamMs);
    await rig.killAndRestart(stream);
    await sleep(streamMs);
    const figures = await finishScenario(label, rig, stream, { networkErrorsAllowed: true });
    assert.ok(
      figures.networkErrors > 0,
      'requests hit the dead gateway (the kill happened mid-stream)',
    );
  } catch (error) {
    console.error(rig.output());
    throw error;
  } finally {
    await rig.teardown();
  }
}
