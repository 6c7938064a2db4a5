/**
 * Flood benchmark: `npm run bench:flood` (not a test: it prints figures, it asserts nothing timed).
 *
 * Starts the real gateway (`node dist/src/main.js`, default limits, behind a trusted proxy so the
 * client address comes from X-Forwarded-For) on the local PostgreSQL and RabbitMQ, then sends
 * FLOOD_REQUESTS (default 10,000) large malformed callback requests from ONE address — broken
 * JSON, wrong media type, forged signatures and keys, bodies over the limit, ~11 KB each — while a
 * genuine NICEPAY callback is sent every 100 ms from NICEPAY's allowlisted address. It also sends
 * forged S88Pay requests from that allowlisted address (its exemption must not apply there).
 *
 * Prints the database growth (pg_database_size before/after, target ≤ 2 MB), the rows written,
 * what became of the refusals (answers by status; recorded / limited / skipped records), and the
 * answers the genuine callbacks got during the flood (all must be 200). Exits 1 when the growth
 * is over the target or a genuine callback was not accepted.
 *
 * Options (environment): FLOOD_REQUESTS (default 10000), FLOOD_CONCURRENCY (default 32),
 * FLOOD_BODY_BYTES (default 11000).
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { AMQP_URL, deleteTopology, sleep, uniqueExchange } from '../test/support/broker.js';
import { PROVIDER_ENV } from '../test/support/credentials.js';
import { createTestDatabase } from '../test/support/databases.js';
import { freePort, MAIN_JS, waitForReady } from '../test/support/gateway-process.js';
import { mcpaymentCallback } from '../test/support/mcpayment.js';
import { metricValue } from '../test/support/metrics.js';
import { nicepayNotification } from '../test/support/nicepay.js';
import { s88payCallback, s88payPayload } from '../test/support/s88pay.js';

const REQUESTS = Number(process.env.FLOOD_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.FLOOD_CONCURRENCY ?? 32);
const BODY_BYTES = Number(process.env.FLOOD_BODY_BYTES ?? 11_000);
const TARGET_BYTES = 2 * 1024 * 1024;
const ATTACKER = '198.51.100.77';
const NICEPAY_ADDRESS = '103.20.51.33';
const GENUINE_EVERY_MS = 100;

interface Attempt {
  path: string;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const padding = (n: number) => 'x'.repeat(Math.max(0, n));

/** The flood's request kinds, each about BODY_BYTES (one over the NICEPAY limit). */
function attempts(): Attempt[] {
  const forged = { ...mcpaymentCallback(), padding: '' };
  const forgedText = JSON.stringify(forged);
  const s88 = JSON.stringify({ ...s88payCallback(s88payPayload()), key: 'AAAA' });
  return [
    // Broken JSON (400 from the parser).
    {
      path: '/callbacks/mcpayment',
      type: 'application/json',
      body: `{"a":"${padding(BODY_BYTES)}`,
    },
    // Well-formed but forged (401 after the signature check).
    {
      path: '/callbacks/mcpayment',
      type: 'application/json',
      body: JSON.stringify({ ...forged, padding: padding(BODY_BYTES - forgedText.length) }),
      headers: { 'mcp-signature': 'f'.repeat(64) },
    },
    // Wrong media type (415).
    { path: '/callbacks/mcpayment', type: 'text/plain', body: padding(BODY_BYTES) },
    // S88Pay key that is not a ciphertext (401).
    {
      path: '/callbacks/s88pay',
      type: 'application/json',
      body: s88.replace('"AAAA"', `"${'A'.repeat(Math.min(BODY_BYTES, 15_000) - s88.length)}"`),
    },
    // Over NICEPAY's 16 KB limit (413).
    {
      path: '/callbacks/nicepay',
      type: 'application/x-www-form-urlencoded',
      body: `a=${padding(Math.max(BODY_BYTES, 17_000))}`,
    },
    // Malformed form (400).
    {
      path: '/callbacks/nicepay',
      type: 'application/x-www-form-urlencoded',
      body: `tXid=${padding(BODY_BYTES)}`,
    },
  ];
}

async function databaseBytes(query: (sql: string) => Promise<Array<{ n: string }>>) {
  const [{ n }] = await query('SELECT pg_database_size(current_database()) AS n');
  return Number(n);
}

async function main(): Promise<void> {
  const db = await createTestDatabase('postgres');
  const exchange = uniqueExchange();
  const port = await freePort();
  const gateway = spawn(process.execPath, [MAIN_JS], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...PROVIDER_ENV,
      EXPECTED_COMMANDS_QUEUE: 'off',
      ...db.env,
      AMQP_URL,
      EVENTS_EXCHANGE: exchange,
      PORT: String(port),
      MANAGEMENT_PORT: String(port),
      TRUSTED_PROXIES: '127.0.0.1,::1',
      NICEPAY_ALLOWED_IPS: NICEPAY_ADDRESS,
    },
    stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForReady(url);

  const send = async (attempt: Attempt, from: string): Promise<number> => {
    try {
      const res = await fetch(`${url}${attempt.path}`, {
        method: 'POST',
        headers: { 'content-type': attempt.type, 'x-forwarded-for': from, ...attempt.headers },
        body: attempt.body,
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      // The gateway closes the connection of a request it refuses before reading the body.
      return 0;
    }
  };
  const genuine = async (): Promise<number> => {
    const fields = nicepayNotification();
    return send(
      {
        path: '/callbacks/nicepay',
        type: 'application/x-www-form-urlencoded',
        body: new URLSearchParams(fields).toString(),
        headers: { 'user-agent': 'Jakarta Commons-HttpClient/3.1' },
      },
      NICEPAY_ADDRESS,
    );
  };

  // One genuine callback first (schema, pools, JIT), then the baseline size.
  if ((await genuine()) !== 200) throw new Error('the genuine callback was not accepted');
  await sleep(1000);
  const sizeBefore = await databaseBytes(db.query);
  const [{ n: rowsBefore }] = await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM callbacks');

  const kinds = attempts();
  const statuses = new Map<number, number>();
  const genuineStatuses: number[] = [];
  let flooding = true;
  const genuineLoop = (async () => {
    while (flooding) {
      genuineStatuses.push(await genuine());
      await sleep(GENUINE_EVERY_MS);
    }
  })();
  // The allowlisted address forging another provider's callbacks: limited like anyone else.
  const exemptionStatuses = new Map<number, number>();
  const exemptionLoop = (async () => {
    for (let i = 0; i < 200 && flooding; i += 1) {
      const status = await send(kinds[3], NICEPAY_ADDRESS);
      exemptionStatuses.set(status, (exemptionStatuses.get(status) ?? 0) + 1);
    }
  })();

  const started = performance.now();
  let next = 0;
  let bytesSent = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const attempt = kinds[next % kinds.length];
        next += 1;
        bytesSent += attempt.body.length;
        const status = await send(attempt, ATTACKER);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  flooding = false;
  await Promise.all([genuineLoop, exemptionLoop]);

  // Records are written after the answers: give the recorder time to finish.
  await sleep(2000);
  const sizeAfter = await databaseBytes(db.query);
  const [{ n: rowsAfter }] = await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM callbacks');
  const [{ n: rejectedRows }] = await db.query<{ n: string }>(
    `SELECT COUNT(*) AS n FROM callbacks WHERE outcome <> 'accepted'`,
  );
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const records = (result: string) =>
    metricValue(metrics, 'gateway_rejected_attempts_total', { result }) || 0;

  gateway.kill('SIGTERM');
  await new Promise((resolve) => gateway.once('exit', resolve));
  await deleteTopology(exchange).catch(() => undefined);
  await db.drop();

  const growth = sizeAfter - sizeBefore;
  const genuineOk = genuineStatuses.filter((s) => s === 200).length;
  const histogram = (map: Map<number, number>) =>
    [...map.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status === 0 ? 'connection closed' : status}: ${n}`)
      .join(', ');
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  console.log(
    [
      '',
      `Flood: ${REQUESTS} malformed requests (~${(BODY_BYTES / 1000).toFixed(0)} KB each, ${mb(bytesSent)} in all) from ${ATTACKER}, ` +
        `${CONCURRENCY} connections, ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(0)} requests/s)`,
      `  answers: ${histogram(statuses)}`,
      `  database: ${mb(sizeBefore)} before, ${mb(sizeAfter)} after: growth ${mb(growth)} (${growth} bytes; target ≤ ${mb(TARGET_BYTES)}: ${growth <= TARGET_BYTES ? 'met' : 'NOT met'})`,
      `  callbacks rows: +${Number(rowsAfter) - Number(rowsBefore)} (${rejectedRows} rejected-attempt records in all)`,
      `  rejected-attempt records: recorded ${records('recorded')}, limited ${records('limited')}, skipped ${records('skipped')}, failed ${records('failed')}`,
      `  genuine NICEPAY callbacks from the allowlisted ${NICEPAY_ADDRESS} during the flood: ${genuineOk}/${genuineStatuses.length} answered 200`,
      `  forged S88Pay requests from that same address (no exemption there): ${histogram(exemptionStatuses)}`,
      '',
    ].join('\n'),
  );
  if (growth > TARGET_BYTES || genuineOk !== genuineStatuses.length || genuineOk === 0)
    process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
