import { Injectable } from '@nestjs/common';
import { isUtf8 } from 'node:buffer';
import { storableText } from '../common/printable.js';
import type { EventStatus } from '../events/normalized-transaction.js';
import { payloadHead, transitionJson, type TransactionEvent } from '../events/transaction-event.js';
import { OUTBOX_COLUMNS, type OutboxRecord } from '../outbox/outbox-record.js';
import { applyObservation } from './transaction-states.js';
import { postgresTransitionPredicate } from '../events/transitions.js';
import {
  SqlDialect,
  type SqlPlan,
  type SqlPlanContext,
  step,
  jsonbRowColumns,
  jsonbRows,
} from '../persistence/sql-dialect.js';
import { TurnBatch } from '../persistence/turn-batch.js';

export interface AcceptedCallbackRecord {
  id: string;
  provider: string;
  account: string;
  transactionKey: string;
  status: EventStatus;
  /** The transition discriminator (transitionKeyOf): '' unless a `refunded` with its total. */
  transitionKey: string;
  /** The merchant's order reference, kept searchable (admin API). */
  merchantReference?: string | null;
  /** Label (or position) of the account's key that verified it; never the key. */
  credentialKey?: string | null;
  eventId: string;
  sourceIp: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  rawBody: Buffer;
  verification: string;
  receivedAt: Date;
}

/** An authentic callback whose fields failed validation (or the mapper): kept until renormalized. */
export interface QuarantinedCallbackRecord extends Omit<
  AcceptedCallbackRecord,
  'transactionKey' | 'status' | 'transitionKey' | 'merchantReference' | 'eventId'
> {
  /** Each field problem. */
  errors: string[];
  /** The verified (decoded, decrypted) fields, what a renormalization runs the mapper on. */
  fields: Record<string, unknown>;
}

export type StoreOutcome =
  /** A transition: stored with its outbox row (publish it after the commit). */
  | {
      outcome: 'accepted';
      version: number;
      previousStatus: EventStatus | null;
      outbox: OutboxRecord;
    }
  /** Stored, but not a transition of the transaction's state: no event. */
  | { outcome: 'superseded'; outbox: null }
  /** An earlier copy (same provider, account, transaction, status, discriminator) is stored: nothing new. */
  | { outcome: 'duplicate'; outbox: null };

/** Text when the body is UTF-8 without NUL bytes (PostgreSQL text cannot hold NUL), else base64. */
export function encodeRawBody(body: Buffer): { text: string; encoding: 'utf8' | 'base64' } {
  if (body.indexOf(0) === -1 && isUtf8(body))
    return { text: body.toString('utf8'), encoding: 'utf8' };
  return { text: body.toString('base64'), encoding: 'base64' };
}

/** Longest merchant reference kept in the searchable column (the event keeps the whole value). */
export const REFERENCE_SEARCH_LENGTH = 191;

/**
 * The merchant reference as stored in `callbacks.merchant_reference` and as searched for: without
 * NUL (PostgreSQL text cannot hold it) and cut to fit an index entry, so no reference a provider
 * sends can make the insert — and with it the callback — fail.
 */
export function searchableReference(reference: string | null | undefined): string | null {
  if (reference === null || reference === undefined) return null;
  return reference.replaceAll('\u0000', '').slice(0, REFERENCE_SEARCH_LENGTH);
}

const CALLBACK_COLUMNS = `id, provider, account, transaction_key, status, transition_key, event_id, outcome,
    source_ip, method, path, headers, raw_body, raw_body_encoding, verification, received_at, merchant_reference,
    credential_key`;
/** Parameters per callback row (the columns above, outcome excepted: the statement decides it). */
const CALLBACK_PARAMS = 17;

/** Most rows one PostgreSQL statement takes. */
const MAX_BATCH = 100;

interface PendingStore {
  callback: AcceptedCallbackRecord;
  event: TransactionEvent;
  head: string;
  params: unknown[];
  createdAt: Date;
  resolve: (outcome: StoreOutcome) => void;
  reject: (error: unknown) => void;
}

/** A SQLite store waiting for its turn's group commit. */
interface PendingSqliteStore {
  plan: (context: SqlPlanContext) => SqlPlan<StoreOutcome>;
  resolve: (outcome: StoreOutcome) => void;
  reject: (error: unknown) => void;
}

/** The transaction a callback belongs to: callbacks of one transaction never share a batch. */
function transactionOf(callback: AcceptedCallbackRecord): string {
  return JSON.stringify([callback.provider, callback.account, callback.transactionKey]);
}

/**
 * Stores an accepted callback, moves its transaction's state (src/events/transitions.ts)
 * and writes the outbox row when that is a transition — all in one database transaction — or
 * nothing when the callback is a duplicate. The unique index on the event id — derived
 * from (provider, account, transaction_key, status, transition_key) — decides duplicates, the state row serializes
 * transitions, so copies and rivals racing on separate connections or replicas still produce one
 * row each and one order of transitions.
 *
 * On PostgreSQL, callbacks that reach the store in the same event-loop turn are written by one
 * statement (one transaction, one round trip): under load that divides the database work per
 * callback several times. Each row still gets its own verdict, and a failed batch is retried row by
 * row so one bad row cannot fail its neighbours. Callbacks of the same transaction in one turn
 * go to consecutive batches in arrival order (a statement can move a state row only once).
 *
 * On SQLite, the callbacks of one turn share one transaction (group commit: one fsync), each in
 * its own savepoint and in arrival order; every one is answered after the commit.
 */
@Injectable()
export class CallbackStore {
  private readonly pending = new TurnBatch<PendingStore>((queue) => void this.writeLayers(queue));
  private readonly sqlitePending = new TurnBatch<PendingSqliteStore>((queue) =>
    this.flushSqlite(queue),
  );

  constructor(private readonly sql: SqlDialect) {}

  async storeAccepted(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
    lease: { owner: string; until: Date } | null,
  ): Promise<StoreOutcome> {
    const params = [
      ...identityParams(callback),
      ...requestParams(callback),
      searchableReference(callback.merchantReference),
      callback.credentialKey ?? null,
    ];

    if (this.sql.isPostgres) {
      const head = payloadHead(event.body);
      return new Promise((resolve, reject) => {
        this.pending.add({
          callback,
          event,
          head,
          params: [
            ...params,
            event.type,
            event.routingKey,
            head,
            lease?.owner ?? null,
            lease?.until.toISOString() ?? null,
          ],
          createdAt: callback.receivedAt,
          resolve,
          reject,
        });
      });
    }

    const plan = function* (context: SqlPlanContext): SqlPlan<StoreOutcome> {
      const copies = yield step(`SELECT 1 FROM callbacks WHERE event_id = ?`, [callback.eventId]);
      if (copies.length > 0) return { outcome: 'duplicate', outbox: null };
      yield step(
        `INSERT INTO callbacks (${CALLBACK_COLUMNS})
         VALUES (${placeholders(7)}, 'accepted', ${placeholders(CALLBACK_PARAMS - 7)})`,
        params,
      );
      const result = yield* applyObservation(context, {
        provider: callback.provider,
        account: callback.account,
        transactionKey: callback.transactionKey,
        status: callback.status,
        refundedTotal: callback.transitionKey || null,
        observedAt: callback.receivedAt,
        callbackId: callback.id,
        event,
        lease,
      });
      if (result.verdict === 'transition') {
        return {
          outcome: 'accepted',
          version: result.version,
          previousStatus: result.previousStatus,
          outbox: result.outbox!,
        };
      }
      yield step(`UPDATE callbacks SET outcome = 'superseded' WHERE id = ?`, [callback.id]);
      return { outcome: 'superseded', outbox: null };
    };
    // SQLite: group commit — the callbacks of one event-loop turn share one transaction (one
    // fsync), each in its own savepoint; all are answered after the commit.
    return new Promise((resolve, reject) => {
      this.sqlitePending.add({ plan, resolve, reject });
    });
  }

  private flushSqlite(queue: PendingSqliteStore[]): void {
    const results = this.sql.sqliteGroup(queue.map((item) => item.plan));
    results.forEach((result, i) => {
      if (result.ok) queue[i].resolve(result.value);
      else queue[i].reject(result.error);
    });
  }

  /** One row, outcome `quarantined`, its errors and verified fields in `quarantine`. */
  async storeQuarantined(callback: QuarantinedCallbackRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO callbacks (${CALLBACK_COLUMNS}, quarantine)
       VALUES (?, ?, ?, NULL, NULL, '', NULL, 'quarantined', ${placeholders(8)}, NULL, ?, ?)`,
      [
        callback.id,
        callback.provider,
        callback.account,
        ...requestParams(callback),
        callback.credentialKey ?? null,
        JSON.stringify({ errors: callback.errors, fields: callback.fields }),
      ],
    );
  }

  /**
   * Layer n holds each transaction's n-th callback of this turn; a layer is written (in batches
   * running side by side) only after the previous one committed, so the transitions of one
   * transaction follow arrival order.
   */
  private async writeLayers(queue: PendingStore[]): Promise<void> {
    const layers: PendingStore[][] = [];
    const depth = new Map<string, number>();
    for (const item of queue) {
      const key = transactionOf(item.callback);
      const n = depth.get(key) ?? 0;
      depth.set(key, n + 1);
      (layers[n] ??= []).push(item);
    }
    for (const layer of layers) {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < layer.length; i += MAX_BATCH)
        writes.push(this.write(layer.slice(i, i + MAX_BATCH)));
      await Promise.all(writes);
    }
  }

  private async write(batch: PendingStore[]): Promise<void> {
    try {
      const verdicts = await this.insertBatch(batch);
      for (const item of batch) {
        const verdict = verdicts.get(item.callback.id);
        if (!verdict) item.resolve({ outcome: 'duplicate', outbox: null });
        else if (verdict.outcome === 'superseded')
          item.resolve({ outcome: 'superseded', outbox: null });
        else {
          const transition = {
            previousStatus: verdict.previous_status,
            transactionVersion: Number(verdict.version),
          };
          item.resolve({
            outcome: 'accepted',
            version: transition.transactionVersion,
            previousStatus: transition.previousStatus,
            outbox: {
              eventId: item.event.id,
              provider: item.event.provider,
              eventType: item.event.type,
              routingKey: item.event.routingKey,
              payload: `${item.head}${transitionJson(transition)}}}`,
              createdAt: item.createdAt,
              built: { body: item.event.body, transition },
            },
          });
        }
      }
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      await Promise.all(batch.map((item) => this.write([item])));
    }
  }

  /**
   * One statement for the batch (one transaction per distinct transaction, never two callbacks of
   * the same one): duplicates are dropped; every other callback proposes its status to its
   * transaction's state row — inserted, or updated when the transition table allows it, under the
   * row's lock — and is stored as `accepted` with an outbox row (version and previous status
   * filled in from the state row), or as `superseded`. A transition whose callback meets a copy
   * committed meanwhile fails the statement (no ON CONFLICT there): the row-by-row retry then sees
   * the copy and answers duplicate, so a state never moves without its callback.
   */
  private async insertBatch(batch: PendingStore[]): Promise<
    Map<
      string,
      {
        outcome: 'accepted' | 'superseded';
        version: number | null;
        previous_status: EventStatus | null;
      }
    >
  > {
    const result = await this.sql.queryPrepared<{
      id: string;
      outcome: 'accepted' | 'superseded';
      version: number | null;
      previous_status: EventStatus | null;
    }>(BATCH_STATEMENT, [jsonbRows(batch.map((item) => item.params))]);
    return new Map(result.map((row) => [row.id, row]));
  }
}

/**
 * The version floor of a batched row, in SQL: the callback's receipt time in epoch milliseconds
 * (the gateway's clock), as nextVersion (transaction-states.ts) takes it. The inserted row carries
 * it (`excluded.version`) to the ON CONFLICT update, which keeps the larger of it and the state's
 * version + 1.
 */
const VERSION_CLOCK = `floor(extract(epoch FROM received_at::timestamptz) * 1000)::bigint`;

/**
 * A stored callback's columns as the batched writes take them, in the order of identityParams,
 * requestParams, the searchable reference and the credential key (CALLBACK_COLUMNS without outcome).
 */
export const STORED_INPUT_COLUMNS = CALLBACK_COLUMNS.split(',')
  .map((column) => column.trim())
  .filter((column) => column !== 'outcome');

/** The batched statement's input columns, in the order of each PendingStore's params. */
const INPUT_COLUMNS = [
  ...STORED_INPUT_COLUMNS,
  'event_type',
  'routing_key',
  'payload_head',
  'lease_owner',
  'lease_until',
];

/**
 * The batched statement, one text for every batch size: the rows come as one `jsonb` array
 * (jsonbRows), so each pooled connection parses and plans it once. (With a VALUES row per callback
 * there was a text per batch size, and PostgreSQL planned nearly every execution anew: a third
 * of its CPU per callback, issue 28.)
 *
 * A plan made once is kept while the table grows, so the statement must not leave the lookup of
 * stored copies to the table's size at planning time: planned on a young table, `NOT EXISTS`
 * became a hash anti-join over a sequential scan of `callbacks`, every batch reading the whole
 * table. `OFFSET 0` keeps the sub-select a correlated probe of the unique `event_id` index for
 * each row (PostgreSQL does not turn an EXISTS with an OFFSET into a join); a test checks the
 * generic plan.
 */
export const BATCH_STATEMENT = buildBatchStatement();

function buildBatchStatement(): string {
  const insertCallbacks = (alias: string, outcome: string) =>
    `INSERT INTO callbacks (${CALLBACK_COLUMNS})
       SELECT ${alias}.id, ${alias}.provider, ${alias}.account, ${alias}.transaction_key, ${alias}.status,
              ${alias}.transition_key, ${alias}.event_id, '${outcome}', ${alias}.source_ip, ${alias}.method,
              ${alias}.path, ${alias}.headers, ${alias}.raw_body, ${alias}.raw_body_encoding,
              ${alias}.verification, ${alias}.received_at::timestamptz, ${alias}.merchant_reference,
              ${alias}.credential_key`;
  return `WITH input AS (
         SELECT ${jsonbRowColumns('r', INPUT_COLUMNS)} FROM jsonb_array_elements(?::jsonb) AS r),
       fresh AS (
         SELECT i.* FROM input i
         WHERE NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.event_id = i.event_id OFFSET 0)),
       moved AS (
         INSERT INTO transactions AS state (provider, account, transaction_key, status, previous_status,
                                              refunded_total, version, first_callback_id, last_callback_id,
                                              created_at, updated_at)
         SELECT provider, account, transaction_key, status, NULL, NULLIF(transition_key, ''),
                GREATEST(1, ${VERSION_CLOCK}), id, id,
                received_at::timestamptz, received_at::timestamptz
         FROM fresh ORDER BY provider, account, transaction_key
         ON CONFLICT (provider, account, transaction_key) DO UPDATE
           SET previous_status = state.status, status = excluded.status,
               refunded_total = excluded.refunded_total,
               version = GREATEST(state.version + 1, excluded.version),
               last_callback_id = excluded.last_callback_id, updated_at = excluded.updated_at
           WHERE ${postgresTransitionPredicate('state', 'excluded')}
         RETURNING last_callback_id AS id, version, previous_status),
       accepted AS (
         ${insertCallbacks('f', 'accepted')}
         FROM fresh f JOIN moved m ON m.id = f.id
         RETURNING id),
       superseded AS (
         ${insertCallbacks('f', 'superseded')}
         FROM fresh f WHERE NOT EXISTS (SELECT 1 FROM moved m WHERE m.id = f.id)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING id),
       events AS (
         INSERT INTO outbox ${OUTBOX_COLUMNS}
         SELECT f.event_id, f.id, f.provider, f.event_type, f.routing_key,
                f.payload_head || ',"previousStatus":' || COALESCE('"' || m.previous_status || '"', 'null')
                  || ',"transactionVersion":' || m.version || '}}',
                f.received_at::timestamptz, f.lease_owner, f.lease_until::timestamptz
         FROM fresh f JOIN moved m ON m.id = f.id JOIN accepted a ON a.id = f.id
         RETURNING callback_id)
       SELECT e.callback_id AS id, 'accepted' AS outcome, m.version, m.previous_status
       FROM events e JOIN moved m ON m.id = e.callback_id
       UNION ALL
       SELECT s.id, 'superseded', NULL, NULL FROM superseded s`;
}

/** id … event_id: the callback's identity and de-duplication key, in CALLBACK_COLUMNS order. */
export function identityParams(
  callback: Pick<
    AcceptedCallbackRecord,
    'id' | 'provider' | 'account' | 'transactionKey' | 'status' | 'transitionKey' | 'eventId'
  >,
): unknown[] {
  return [
    callback.id,
    callback.provider,
    // Validation refuses control characters in ids; escaping here is the last line, so no value
    // a client sent can make the insert (and with it the callback) fail on PostgreSQL.
    storableText(callback.account),
    storableText(callback.transactionKey),
    callback.status,
    callback.transitionKey,
    callback.eventId,
  ];
}

/** source_ip … received_at: the request as it arrived. */
export function requestParams(
  callback: Pick<
    AcceptedCallbackRecord,
    'sourceIp' | 'method' | 'path' | 'headers' | 'rawBody' | 'verification' | 'receivedAt'
  >,
): unknown[] {
  const body = encodeRawBody(callback.rawBody);
  return [
    storableText(callback.sourceIp),
    callback.method,
    callback.path,
    JSON.stringify(callback.headers),
    body.text,
    body.encoding,
    storableText(callback.verification),
    callback.receivedAt.toISOString(),
  ];
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}
