/**
 * Synthetic, realistic history for the data benchmarks: millions of stored callbacks written by
 * PostgreSQL itself (`generate_series`), each a copy of a row the real gateway stored.
 *
 * Templates: a gateway is started on the database, receives one genuine signed callback of every
 * provider and a few refused ones (bad signature, malformed), publishes their events, and stops.
 * Every synthetic row copies one template, with its own ids, transaction key, reference, status
 * and receipt time, so row and index sizes are those of real traffic:
 * - 97% accepted, split over providers (NICEPAY 35%, MCPayment 25%, S88Pay 20%, Sidopulsa 12%,
 *   PPOB 5% — the rare one), statuses mostly `succeeded`, a few rare ones;
 * - 3% rejected attempts (signature refused, malformed);
 * - accepted callbacks spread over the last 89 days (inside the default 90-day retention), rejected
 *   attempts over the last 14 (the default rejected retention): the steady state of a gateway
 *   whose retention job keeps up. Every event is published.
 * - ids as the gateway makes them (`ids`: random v4, or time-ordered v7).
 *
 * Secondary indexes are dropped while loading and rebuilt afterwards (much faster than
 * maintaining them row by row); the primary keys stay.
 */
import pg from 'pg';
import { sleep } from '../test/support/broker.js';
import { PROVIDERS, signedCallback } from '../test/support/callbacks.js';
import { spawnGateway } from '../test/support/gateway-process.js';

export interface FillOptions {
  databaseUrl: string;
  rows: number;
  /** `v7` when the gateway's callback ids are time-ordered (UUID v7), else random `v4`. */
  ids: 'v4' | 'v7';
  log?: (line: string) => void;
}

const CHUNK = 250_000;

/** Template slots per 100 rows: which provider, or which kind of refusal. */
const SLOTS: [string, number][] = [
  ['nicepay', 35],
  ['mcpayment', 25],
  ['s88pay', 20],
  ['sidopulsa', 12],
  ['ppob', 5],
  ['rejected_auth', 2],
  ['invalid', 1],
];

/** Status per 1,000 accepted rows (the rest `succeeded`). */
const STATUSES: [string, number][] = [
  ['pending', 100],
  ['failed', 40],
  ['expired', 30],
  ['refunded', 15],
  ['cancelled', 5],
  ['reversed', 2],
];

/** Receives real callbacks on the (migrated, empty) database: the rows every copy is made from. */
async function storeTemplates(databaseUrl: string, exchange: string): Promise<void> {
  const gateway = await spawnGateway({
    DATABASE_URL: databaseUrl,
    EVENTS_EXCHANGE: exchange,
    NODE_ENV: 'production',
  });
  try {
    for (const provider of PROVIDERS) {
      const callback = signedCallback(provider);
      const response = await fetch(`${gateway.url}${callback.path}`, {
        method: callback.method,
        headers: callback.headers,
        body: callback.body,
      });
      if (response.status !== 200) throw new Error(`template ${provider}: HTTP ${response.status}`);
    }
    // A refused attempt of a known provider: a forged signature.
    const forged = signedCallback('mcpayment');
    await fetch(`${gateway.url}${forged.path}`, {
      method: 'POST',
      headers: { ...forged.headers, 'mcp-signature': 'f'.repeat(64) },
      body: forged.body,
    });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (let i = 0; ; i += 1) {
        const { rows } = await client.query<{ unpublished: string; refused: string }>(
          `SELECT (SELECT COUNT(*) FROM outbox WHERE published_at IS NULL) AS unpublished,
                  (SELECT COUNT(DISTINCT outcome) FROM callbacks WHERE outcome <> 'accepted') AS refused`,
        );
        if (Number(rows[0].unpublished) === 0 && Number(rows[0].refused) === 1) break;
        if (i > 200) throw new Error('template events were not published');
        await sleep(100);
      }
    } finally {
      await client.end();
    }
  } finally {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
  }
}

/** A SQL expression for the id of row `g`, derived from `salt` (v4) or time-ordered (v7). */
function idExpression(ids: 'v4' | 'v7', salt: string, at: string): string {
  const hash = `md5(g::text || '${salt}')`;
  if (ids === 'v4') return `${hash}::uuid::text`;
  // 48 bits of milliseconds, version 7, variant 10, the rest from the hash.
  const ms = `lpad(to_hex((extract(epoch FROM ${at}) * 1000)::bigint), 12, '0')`;
  return `(substr(${ms}, 1, 8) || '-' || substr(${ms}, 9, 4) || '-7' || substr(${hash}, 1, 3) || '-a' || substr(${hash}, 4, 3) || '-' || substr(${hash}, 7, 12))`;
}

/** Fills `rows` synthetic callbacks (and their outbox rows) into a migrated database. */
export async function fillHistory(options: FillOptions, exchange: string): Promise<void> {
  const log = options.log ?? (() => undefined);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    // A migrated database with rows already has its templates; an empty one gets them.
    const { rows: existing } = await client.query<{ table: string | null }>(
      `SELECT to_regclass('callbacks')::text AS table`,
    );
    const stored = existing[0].table
      ? Number((await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM callbacks`)).rows[0].n)
      : 0;
    if (stored === 0) await storeTemplates(options.databaseUrl, exchange);
    await client.query(`SET synchronous_commit = off`);
    await client.query(`SET maintenance_work_mem = '512MB'`);

    // Templates: the earliest stored row of each slot's provider (accepted) or outcome (refused).
    await client.query(`DROP TABLE IF EXISTS bench_slots`);
    await client.query(
      `CREATE TEMP TABLE bench_slots (slot int PRIMARY KEY, template varchar(36), outcome varchar(24))`,
    );
    let slot = 0;
    for (const [kind, count] of SLOTS) {
      const accepted = kind !== 'rejected_auth' && kind !== 'invalid';
      // Every refusal copies the forged-signature attempt (same size class), with its own outcome.
      const { rows } = await client.query<{ id: string }>(
        accepted
          ? `SELECT id FROM callbacks WHERE provider = $1 AND outcome = 'accepted' ORDER BY received_at LIMIT 1`
          : `SELECT id FROM callbacks WHERE outcome <> 'accepted' ORDER BY received_at LIMIT 1`,
        accepted ? [kind] : [],
      );
      if (!rows[0]) throw new Error(`no template row for ${kind}`);
      for (let i = 0; i < count; i += 1, slot += 1)
        await client.query(`INSERT INTO bench_slots VALUES ($1, $2, $3)`, [
          slot,
          rows[0].id,
          accepted ? 'accepted' : kind,
        ]);
    }
    let statusCase = 'CASE';
    let upTo = 0;
    for (const [status, count] of STATUSES) {
      upTo += count;
      statusCase += ` WHEN (g::bigint * 7919) % 1000 < ${upTo} THEN '${status}'`;
    }
    statusCase += ` ELSE 'succeeded' END`;

    // The template rows, copied aside: the join below must not need an index on the big tables.
    await client.query(`DROP TABLE IF EXISTS bench_tc`);
    await client.query(`DROP TABLE IF EXISTS bench_to`);
    await client.query(
      `CREATE TEMP TABLE bench_tc AS SELECT * FROM callbacks WHERE id IN (SELECT template FROM bench_slots)`,
    );
    await client.query(
      `CREATE TEMP TABLE bench_to AS SELECT * FROM outbox WHERE callback_id IN (SELECT template FROM bench_slots)`,
    );
    // Every index and constraint goes while loading (rebuilt by
    // sorting at the end, far faster than random inserts into large B-trees).
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
       WHERE tablename IN ('callbacks', 'outbox') AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
    );
    const { rows: constraints } = await client.query<{
      table: string;
      name: string;
      definition: string;
    }>(
      `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS definition
       FROM pg_constraint
       WHERE (conrelid IN ('outbox'::regclass, 'callbacks'::regclass) OR confrelid = 'callbacks'::regclass)
         AND contype IN ('f', 'p')
       ORDER BY contype, conrelid = 'callbacks'::regclass`,
    );
    // Foreign keys first (also those of other tables on callbacks), then the primary keys.
    for (const c of constraints)
      await client.query(`ALTER TABLE ${c.table} DROP CONSTRAINT ${c.name}`);
    for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);

    const started = Date.now();
    const total = options.rows;
    // Accepted rows over 89 days, refused ones over 14, oldest first (as they would have arrived).
    const at = `(CASE WHEN t.outcome = 'accepted'
                  THEN now() - interval '89 days' * (1 - g::float8 / ${total})
                  ELSE now() - interval '14 days' * (1 - g::float8 / ${total}) END)`;
    for (let from = 1; from <= total; from += CHUNK) {
      const to = Math.min(total, from + CHUNK - 1);
      await client.query(
        `WITH rows AS (
           SELECT g, t.*, s.outcome AS new_outcome, ${at} AS at,
                  CASE WHEN t.outcome = 'accepted' THEN ${statusCase} END AS new_status,
                  ${idExpression(options.ids, 'c', at)} AS new_id,
                  md5(g::text || 'e')::uuid::text AS new_event_id,
                  t.transaction_key || '-' || g AS new_key,
                  t.merchant_reference || '-' || g AS new_reference
           FROM generate_series(${from}, ${to}) g
           JOIN bench_slots s ON s.slot = g % 100
           JOIN bench_tc t ON t.id = s.template),
         c AS (
           INSERT INTO callbacks (id, provider, account, transaction_key, status, event_id, outcome,
                                  source_ip, method, path, headers, raw_body, raw_body_encoding,
                                  verification, received_at, merchant_reference)
           SELECT new_id, provider, account, new_key, new_status,
                  CASE WHEN event_id IS NOT NULL THEN new_event_id END, new_outcome, source_ip, method,
                  replace(path, coalesce(transaction_key, chr(1)), coalesce(new_key, '')), headers,
                  replace(replace(raw_body, coalesce(transaction_key, chr(1)), coalesce(new_key, '')),
                          coalesce(merchant_reference, chr(1)), coalesce(new_reference, '')),
                  raw_body_encoding, verification, at, new_reference
           FROM rows)
         INSERT INTO outbox (event_id, callback_id, provider, event_type, routing_key, payload,
                             created_at, published_at, attempts)
         SELECT r.new_event_id, r.new_id, r.provider, o.event_type,
                replace(o.routing_key, '.succeeded', '.' || r.new_status),
                replace(replace(replace(o.payload, o.event_id, r.new_event_id),
                                coalesce(r.transaction_key, chr(1)), coalesce(r.new_key, '')),
                        coalesce(r.merchant_reference, chr(1)), coalesce(r.new_reference, '')),
                r.at, r.at + interval '40 milliseconds', 1
         FROM rows r JOIN bench_to o ON o.callback_id = r.id
         WHERE r.outcome = 'accepted'`,
      );
      const rate = (to / ((Date.now() - started) / 1000)).toFixed(0);
      log(`  ${to.toLocaleString('en')} / ${total.toLocaleString('en')} rows (${rate}/s)`);
    }
    // Each accepted callback's transaction has its state (one callback per transaction here).
    await client.query(
      `INSERT INTO transactions (provider, account, transaction_key, status, previous_status, refunded_total,
                                 version, first_callback_id, last_callback_id, created_at, updated_at)
       SELECT provider, account, transaction_key, status, NULL, NULL, 1, id, id, received_at, received_at
       FROM callbacks
       WHERE outcome = 'accepted' AND account IS NOT NULL AND transaction_key IS NOT NULL AND status IS NOT NULL
       ON CONFLICT DO NOTHING`,
    );
    await client.query(`VACUUM ANALYZE transactions`);
    log('  rebuilding indexes…');
    // Primary keys, then the foreign key that needs them, then the other indexes.
    for (const c of [...constraints].reverse())
      await client.query(`ALTER TABLE ${c.table} ADD CONSTRAINT ${c.name} ${c.definition}`);
    for (const index of indexes) await client.query(index.definition);
    await client.query(`VACUUM ANALYZE callbacks`);
    await client.query(`VACUUM ANALYZE outbox`);
    log(`  filled in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await client.end();
  }
}

export interface StorageFigures {
  callbacks: number;
  bytes: number;
  perCallback: number;
  tables: { name: string; bytes: number }[];
}

/** Bytes on disk (tables, TOAST, indexes) per stored callback. */
export async function storage(databaseUrl: string): Promise<StorageFigures> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_relation_size(c.oid) + COALESCE(pg_relation_size(c.reltoastrelid), 0) AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')
       ORDER BY 2 DESC`,
    );
    const { rows: count } = await client.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM callbacks`,
    );
    const tables = rows.map((r) => ({ name: r.name, bytes: Number(r.bytes) }));
    const bytes = tables.reduce((sum, t) => sum + t.bytes, 0);
    const callbacks = Number(count[0].n);
    return { callbacks, bytes, perCallback: bytes / Math.max(1, callbacks), tables };
  } finally {
    await client.end();
  }
}
