/**
 * The plain-Node floor (issue 28): a baseline, not the product. A `node:http` server doing the
 * durable work of the gateway's NICEPAY path and nothing else, so `npm run bench:floor` can say
 * what that work costs without the framework and the gateway's own bookkeeping.
 *
 * Per request: read the application/x-www-form-urlencoded body (16 KB at most), check the source
 * address against NICEPAY_ALLOWED_IPS, the tXid's form (30 letters or digits) and the
 * merchantToken (lowercase hex SHA-256 of iMid + tXid + amt + merchantKey, every configured iMid
 * tried, each in constant time, as the gateway does), derive the deterministic event id
 * (eventIdFor: provider, account, tXid, status). The requests of one event-loop turn (at most 100) are written in ONE
 * statement: the raw callback and its outbox row, de-duplicated by the event id; every request of
 * the batch is answered 200 after that statement committed. The events the statement newly stored
 * are then published on a confirm channel and, once confirmed, marked published (one statement).
 *
 * Not done (the gateway does): transaction state and versions, the verification decision, rows for
 * rejected and duplicate attempts, request logging, metrics, DTO validation, personal-data masking
 * of the published event, a relay that retries what a failed publish left unpublished.
 *
 * Optional steps of the gateway's work, each behind a flag, to cost it on the floor (issue 28):
 * FLOOR_STATE=1 a transaction-state row per new event, upserted (version + 1) in the same
 * statement; FLOOR_LOG=1 the gateway's request log line (pino, buffered, to /dev/null);
 * FLOOR_METRICS=1 the gateway's callback counter and ack-latency histogram (prom-client);
 * FLOOR_VALIDATE=1 the NICEPAY DTO checked by the gateway's own validateFields.
 *
 * Run as a child process (startFloor below) with DATABASE_URL, AMQP_URL, EVENTS_EXCHANGE, PORT and
 * the NICEPAY_* variables of test/support/credentials.ts. GET /health answers once it is ready,
 * GET /stats gives its own counts (statements sent, batches, events published).
 */
import amqplib, { type ConfirmChannel } from 'amqplib';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { AddressAllowlist, splitList } from '../src/common/address-allowlist.js';
import { constantTimeEqual, sha256Hex } from '../src/common/constant-time.js';
import { eventIdFor } from '../src/events/transaction-event.js';
import { validateFields } from '../src/common/validate-fields.js';
import { NicepayNotificationDto } from '../src/providers/nicepay/nicepay.dto.js';
import { NICEPAY_ACK, NICEPAY_STATUS } from '../src/providers/nicepay/nicepay.facts.js';
import { freePort } from '../test/support/gateway-process.js';
import { untilServing } from './load.js';

const BODY_LIMIT = 16 * 1024;
const BATCH_LIMIT = 100;
/** NICEPAY's tXid: 30 letters or digits (the token hashes tXid and amt with no separator). */
const TXID = /^[A-Za-z0-9]{30}$/;

const STEP_STATE = process.env.FLOOR_STATE === '1';
const STEP_LOG = process.env.FLOOR_LOG === '1';
const STEP_METRICS = process.env.FLOOR_METRICS === '1';
const STEP_VALIDATE = process.env.FLOOR_VALIDATE === '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS floor_callbacks (
  event_id uuid PRIMARY KEY,
  provider text NOT NULL,
  account text NOT NULL,
  remote_address text NOT NULL,
  body text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS floor_outbox (
  event_id uuid PRIMARY KEY REFERENCES floor_callbacks (event_id),
  routing_key text NOT NULL,
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE TABLE IF NOT EXISTS floor_transactions (
  transaction_key text PRIMARY KEY,
  status text NOT NULL,
  version integer NOT NULL,
  last_event_id uuid NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);`;

/** Callback and outbox row of a whole batch; a repeated event id (stored or in the batch) is skipped. */
const WRITE = `
WITH input AS (
  SELECT DISTINCT ON (event_id) *
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
    AS i(event_id, account, remote_address, body, routing_key, payload)
), stored AS (
  INSERT INTO floor_callbacks (event_id, provider, account, remote_address, body)
  SELECT event_id, 'nicepay', account, remote_address, body FROM input
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id
)
INSERT INTO floor_outbox (event_id, routing_key, payload)
SELECT input.event_id, input.routing_key, input.payload FROM input JOIN stored USING (event_id)
RETURNING event_id`;

/** FLOOR_STATE: the same, and each new event's transaction-state row (one version up). */
const WRITE_WITH_STATE = `
WITH input AS (
  SELECT DISTINCT ON (event_id) *
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::text[])
    AS i(event_id, account, remote_address, body, routing_key, payload, transaction_key, status)
), stored AS (
  INSERT INTO floor_callbacks (event_id, provider, account, remote_address, body)
  SELECT event_id, 'nicepay', account, remote_address, body FROM input
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id
), state AS (
  INSERT INTO floor_transactions (transaction_key, status, version, last_event_id)
  SELECT input.transaction_key, input.status, 1, input.event_id FROM input JOIN stored USING (event_id)
  ON CONFLICT (transaction_key) DO UPDATE
    SET status = EXCLUDED.status, version = floor_transactions.version + 1,
        last_event_id = EXCLUDED.last_event_id, updated_at = now()
)
INSERT INTO floor_outbox (event_id, routing_key, payload)
SELECT input.event_id, input.routing_key, input.payload FROM input JOIN stored USING (event_id)
RETURNING event_id`;

const MARK = `UPDATE floor_outbox SET published_at = now() WHERE event_id = ANY($1::uuid[])`;

interface Pending {
  res: ServerResponse;
  eventId: string;
  account: string;
  remoteAddress: string;
  body: string;
  routingKey: string;
  payload: string;
  transactionKey: string;
  status: string;
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': status === 200 ? NICEPAY_ACK.contentType : 'text/plain',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function serve(): Promise<void> {
  const env = process.env;
  const keys = new Map<string, string>();
  const iMids = splitList(env.NICEPAY_IMID);
  const merchantKeys = splitList(env.NICEPAY_MERCHANT_KEY);
  iMids.forEach((iMid, i) => keys.set(iMid, merchantKeys[i]));
  const allowlist = new AddressAllowlist(splitList(env.NICEPAY_ALLOWED_IPS));
  const exchange = env.EVENTS_EXCHANGE!;
  const stats = { statements: 0, batches: 0, published: 0, publishFailures: 0 };
  // The gateway's request log line and metrics, as the optional steps add them.
  const logger = STEP_LOG
    ? pino(
        { level: 'info', base: { service: 'floor' } },
        pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }),
      )
    : null;
  const registry = new Registry();
  const callbacksTotal = new Counter({
    name: 'floor_callbacks_total',
    help: 'callbacks',
    labelNames: ['provider', 'account', 'outcome'] as const,
    registers: [registry],
  });
  const ackLatency = new Histogram({
    name: 'floor_callback_ack_duration_seconds',
    help: 'ack latency',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const observe = (req: IncomingMessage, res: ServerResponse, account: string): void => {
    if (!logger && !STEP_METRICS) return;
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const outcome = res.statusCode < 300 ? 'accepted' : 'refused';
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      if (STEP_METRICS) {
        callbacksTotal.inc({ provider: 'nicepay', account, outcome });
        ackLatency.observe({ provider: 'nicepay', outcome }, elapsed);
      }
      logger?.info(
        {
          req: { method: req.method, path: '/callbacks/nicepay' },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(elapsed * 1000),
          provider: 'nicepay',
          outcome,
          clientIp: req.socket.remoteAddress,
        },
        'request completed',
      );
    });
  };

  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL,
    max: Number(env.DATABASE_POOL_SIZE ?? 20),
  });
  await pool.query(SCHEMA);

  // The gateway's topology: a topic exchange whose unrouted messages go to a holding queue.
  const connection = await amqplib.connect(env.AMQP_URL!);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  await channel.assertExchange(`${exchange}.unrouted`, 'fanout', { durable: true });
  await channel.assertExchange(exchange, 'topic', {
    durable: true,
    alternateExchange: `${exchange}.unrouted`,
  });
  await channel.assertQueue(`${exchange}.unrouted`, { durable: true });
  await channel.bindQueue(`${exchange}.unrouted`, `${exchange}.unrouted`, '');

  const publish = async (events: Pending[]): Promise<void> => {
    const confirmed = events.map(
      (event) =>
        new Promise<void>((resolve, reject) =>
          channel.publish(
            exchange,
            event.routingKey,
            Buffer.from(event.payload),
            {
              persistent: true,
              messageId: event.eventId,
              contentType: 'application/cloudevents+json',
              headers: { provider: 'nicepay' },
            },
            (error: unknown) => (error ? reject(error) : resolve()),
          ),
        ),
    );
    await Promise.all(confirmed);
    stats.statements += 1;
    await pool.query({ name: 'floor-mark', text: MARK, values: [events.map((e) => e.eventId)] });
    stats.published += events.length;
  };

  const write = async (batch: Pending[]): Promise<void> => {
    const column = (pick: (p: Pending) => string) => batch.map(pick);
    let stored: Set<string>;
    try {
      stats.statements += 1;
      stats.batches += 1;
      const values = [
        column((p) => p.eventId),
        column((p) => p.account),
        column((p) => p.remoteAddress),
        column((p) => p.body),
        column((p) => p.routingKey),
        column((p) => p.payload),
      ];
      if (STEP_STATE)
        values.push(
          column((p) => p.transactionKey),
          column((p) => p.status),
        );
      const result = await pool.query<{ event_id: string }>({
        name: STEP_STATE ? 'floor-write-state' : 'floor-write',
        text: STEP_STATE ? WRITE_WITH_STATE : WRITE,
        values,
      });
      stored = new Set(result.rows.map((row) => row.event_id));
    } catch (error) {
      process.stderr.write(`floor: write failed: ${(error as Error).message}\n`);
      for (const p of batch) answer(p.res, 503, 'not stored');
      return;
    }
    for (const p of batch) answer(p.res, NICEPAY_ACK.status, NICEPAY_ACK.body);
    const fresh = batch.filter((p) => stored.delete(p.eventId));
    if (fresh.length === 0) return;
    await publish(fresh).catch((error: unknown) => {
      // No relay retries it: the rows stay unpublished (the compare phase counts them).
      stats.publishFailures += fresh.length;
      process.stderr.write(`floor: publish failed: ${(error as Error).message}\n`);
    });
  };

  let queue: Pending[] = [];
  const flush = () => {
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += BATCH_LIMIT) void write(all.slice(i, i + BATCH_LIMIT));
  };

  const accept = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    if (!allowlist.allows(req.socket.remoteAddress)) return answer(res, 403, 'forbidden');
    const fields = new URLSearchParams(body);
    const tXid = fields.get('tXid') ?? '';
    const amt = fields.get('amt') ?? '';
    const token = (fields.get('merchantToken') ?? '').toLowerCase();
    if (!TXID.test(tXid)) return answer(res, 400, 'bad request');
    // The iMid is not in the body: every configured one is tried, each in constant time.
    let iMid = '';
    for (const [candidate, key] of keys)
      if (constantTimeEqual(token, sha256Hex(candidate + tXid + amt + key))) iMid ||= candidate;
    if (iMid === '') return answer(res, 401, 'unauthorized');
    const status = NICEPAY_STATUS[fields.get('status') ?? ''];
    if (!status) return answer(res, 400, 'bad request');
    observe(req, res, iMid);
    if (STEP_VALIDATE) {
      try {
        validateFields(NicepayNotificationDto, Object.fromEntries(fields), 'NICEPAY callback');
      } catch {
        return answer(res, 400, 'bad request');
      }
    }
    const eventId = eventIdFor('nicepay', iMid, tXid, status);
    const type = `payment.${status}`;
    const receivedAt = new Date().toISOString();
    // A CloudEvent of about the gateway's size; raw carries the provider's fields.
    const payload = JSON.stringify({
      specversion: '1.0',
      id: eventId,
      source: `/providers/nicepay/${iMid}`,
      type,
      subject: fields.get('referenceNo'),
      time: receivedAt,
      datacontenttype: 'application/json',
      data: {
        provider: 'nicepay',
        account: iMid,
        status,
        providerStatus: fields.get('status'),
        providerTransactionId: tXid,
        merchantReference: fields.get('referenceNo'),
        amount: amt,
        currency: fields.get('currency'),
        receivedAt,
        transactionKey: tXid,
        verification: { method: 'signature', at: receivedAt },
        raw: Object.fromEntries(fields),
      },
    });
    if (queue.length === 0) setImmediate(flush);
    queue.push({
      res,
      eventId,
      account: iMid,
      remoteAddress: req.socket.remoteAddress ?? '',
      body,
      routingKey: `${type}.nicepay`,
      payload,
      transactionKey: `${iMid}:${tXid}`,
      status,
    });
  };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return answer(res, 200, 'ok');
    if (req.method === 'GET' && req.url === '/stats')
      return answer(res, 200, JSON.stringify(stats));
    if (req.method !== 'POST' || req.url !== '/callbacks/nicepay')
      return answer(res, 404, 'not found');
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return answer(res, 415, 'unsupported media type');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > BODY_LIMIT) return answer(res, 413, 'too large');
      accept(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env.PORT), '127.0.0.1');

  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void Promise.allSettled([connection.close(), pool.end()]).then(() => process.exit(0));
  });
}

export interface FloorProcess {
  child: ChildProcess;
  url: string;
  stats(): Promise<{ statements: number; batches: number; published: number }>;
  stop(): Promise<void>;
}

/** The floor as a child process (`node dist/bench/floor.js`), ready to take callbacks. */
export async function startFloor(
  env: Record<string, string>,
  nodeOptions = '',
): Promise<FloorProcess> {
  const port = await freePort();
  // BENCH_FLOOR_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles it.
  const nodeArgs = (process.env.BENCH_FLOOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url)], {
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: nodeOptions, ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  await untilServing(`${url}/health`, child, 'floor', 600);
  return {
    child,
    url,
    stats: async () => (await fetch(`${url}/stats`)).json() as never,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  serve().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
