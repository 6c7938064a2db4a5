import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { uuidV5 } from '../common/uuid-v5.js';
import { uuidV7 } from '../common/uuid-v7.js';
import {
  type EventStatus,
  type NormalizedTransaction,
  transitionKeyOf,
} from '../events/normalized-transaction.js';
import {
  buildTransactionEvent,
  type EventVerification,
  type TransactionCloudEvent,
  type TransactionEvent,
} from '../events/transaction-event.js';
import type { OutboxRecord } from '../outbox/outbox-record.js';
import {
  type AcceptedCallbackRecord,
  encodeRawBody,
  identityParams,
  requestParams,
  searchableReference,
  STORED_INPUT_COLUMNS,
} from '../transactions/callback-store.js';
import {
  SqlDialect,
  type SqlPlan,
  type SqlPlanContext,
  type SqlRows,
  step,
  jsonbRowColumns,
  jsonbRows,
} from '../persistence/sql-dialect.js';
import { TurnBatch } from '../persistence/turn-batch.js';
import { applyObservation, type TransitionResult } from '../transactions/transaction-states.js';
import type { ProviderReport, StatusQuery } from './status-api.js';
import type { ClaimedTransaction } from './verdict.js';

/**
 * Where a hint (a callback of a verified provider) stands:
 * - `verifying`: waiting for the provider's answer;
 * - `confirmed`: the provider's answer states what the callback claims;
 * - `contradicted`: the provider's answer states another status (the answer is what was applied);
 * - `conflicted`: the provider does not know the transaction as the callback describes it, or
 *   states another amount, currency, reference or refunded total;
 * - `unconfirmed`: the provider's answers kept lacking a fact the event needs: held for an operator;
 * - `published_unverified`: an operator published the callback's claim without the provider
 *   (verification method `operator`).
 */
export type VerificationState =
  | 'verifying'
  | 'confirmed'
  | 'contradicted'
  | 'conflicted'
  | 'unconfirmed'
  | 'published_unverified';

export const VERIFICATION_STATES: readonly VerificationState[] = [
  'verifying',
  'confirmed',
  'contradicted',
  'conflicted',
  'unconfirmed',
  'published_unverified',
];

/** One transaction of a verified provider: the key everything about it is scheduled and leased by. */
export interface TransactionKey {
  provider: string;
  account: string;
  transactionKey: string;
}

/** A transaction claimed for one inquiry, with its schedule. */
export interface ScheduledInquiry extends TransactionKey {
  /** Consecutive asks that got no usable answer (unavailable, refused, incomplete). */
  attempts: number;
  /** Answers so far that lacked a fact the event needs. */
  incomplete: number;
  /** Position in the re-ask schedule after a contradicted claim; null: none running. */
  recheckStep: number | null;
  /** The inquiry the provider last answered completely (the proven way to ask). */
  query: StatusQuery | null;
  /** An expected payment's expiry: the transaction is followed until it is final or this passed. */
  followUntil: Date | null;
  /** The lease token it is held under, when it was leased while storing a hint (else the claimer's). */
  owner?: string;
}

/** A stored hint: the callback's claim as the gateway normalized it (its event, never published as is). */
export interface Hint {
  callbackId: string;
  provider: string;
  account: string;
  transactionKey: string;
  /** The callback's refunded total claim ('' unless a refunded with a total). */
  transitionKey: string;
  event: TransactionEvent;
  state: VerificationState;
  createdAt: Date;
}

interface HintRow {
  callback_id: string;
  provider: string;
  account: string;
  transaction_key: string;
  event: string;
  state: VerificationState;
  created_at: string | Date;
}

interface ScheduleRow {
  provider: string;
  account: string;
  transaction_key: string;
  attempts: number | string;
  incomplete: number | string;
  recheck_step: number | string | null;
  query: string | null;
  follow_until?: string | Date | null;
}

/** What the verifications table stores per hint: the claimed event (without transition) and its key. */
interface StoredHint {
  event: TransactionEvent;
  transitionKey: string;
}

/** Namespace of hint ids (the id of a callback's exact bytes): never an event id. */
const HINT_ID_NAMESPACE = '2b9d6e41-7c3a-5f08-8e1d-4a6b2c9f0e73';

/**
 * The de-duplication id of a hint: its exact bytes (provider, account, SHA-256 of the raw body).
 * A hint is a repeat only when it is the same request body; any variant is stored and judged on
 * its own, so a forged or early copy never takes the place of the genuine callback.
 */
export function hintIdOf(provider: string, account: string, rawBody: Buffer): string {
  const digest = hash('sha256', rawBody, 'hex');
  return uuidV5(JSON.stringify([provider, account, digest]), HINT_ID_NAMESPACE);
}

const CALLBACK_COLUMNS = `id, provider, account, transaction_key, status, transition_key, event_id, outcome,
  source_ip, method, path, headers, raw_body, raw_body_encoding, verification, received_at, merchant_reference,
  credential_key`;

const KEY = `provider = ? AND account = ? AND transaction_key = ?`;

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

const keyParams = (key: TransactionKey) => [key.provider, key.account, key.transactionKey];

function toHint(row: HintRow): Hint {
  const stored = JSON.parse(row.event) as StoredHint;
  return {
    callbackId: row.callback_id,
    provider: row.provider,
    account: row.account,
    transactionKey: row.transaction_key,
    transitionKey: stored.transitionKey,
    event: stored.event,
    state: row.state,
    createdAt: new Date(row.created_at),
  };
}

function toScheduled(row: ScheduleRow): ScheduledInquiry {
  return {
    provider: row.provider,
    account: row.account,
    transactionKey: row.transaction_key,
    attempts: Number(row.attempts),
    incomplete: Number(row.incomplete),
    recheckStep: row.recheck_step === null ? null : Number(row.recheck_step),
    followUntil: row.follow_until ? new Date(row.follow_until) : null,
    query: row.query ? (JSON.parse(row.query) as StatusQuery) : null,
  };
}

/** What the gateway asks the provider about, from a hint's (or an earlier answer's) event. */
export function queryOfEvent(event: TransactionEvent): StatusQuery {
  const data = event.body.data;
  return {
    account: data.account,
    providerTransactionId: data.providerTransactionId,
    merchantReference: data.merchantReference,
    amount: data.amount,
    currency: data.currency,
    paymentMethod: data.paymentMethod,
    channel: data.channel,
    raw: data.raw,
  };
}

/** What a hint claims. */
export function claimOfHint(hint: Pick<Hint, 'event' | 'transitionKey'>): ClaimedTransaction {
  const data = hint.event.body.data;
  return {
    status: data.status,
    providerTransactionId: data.providerTransactionId,
    merchantReference: data.merchantReference,
    amount: data.amount,
    currency: data.currency,
    refundedTotal: hint.transitionKey || null,
  };
}

export function withVerification(
  event: TransactionEvent,
  verification: EventVerification,
): TransactionEvent {
  return { ...event, body: { ...event.body, data: { ...event.body.data, verification } } };
}

/** A stored record of what the provider's API answered (method INQUIRY), applied as a state. */
export interface InquiryRecord extends TransactionKey {
  /** The transaction as the provider's answer states it (status, amount, reference, raw answer, …). */
  transaction: NormalizedTransaction;
  report: ProviderReport;
  method: 'inquiry' | 'reconciliation';
  at: Date;
}

/**
 * Stores the provider's answer as a callback record (method `INQUIRY`, raw = the answer) and
 * applies it to the transaction state, writing the event when it is a transition. The event is
 * built from the answer alone. A record of the same status (and refunded total) already stored is
 * not stored twice; the state row alone decides what is news.
 */
export function* recordInquiry(
  context: SqlPlanContext,
  record: InquiryRecord,
  lease: { owner: string; until: Date } | null,
): SqlPlan<TransitionResult & { recordId: string | null; event: TransactionEvent }> {
  const id = uuidV7();
  const verification: EventVerification = { method: record.method, at: record.at.toISOString() };
  const event = buildTransactionEvent({
    provider: record.provider,
    account: record.account,
    callbackId: id,
    receivedAt: record.at,
    transaction: record.transaction,
    verification,
  });
  const refunded = transitionKeyOf(record.transaction);
  const raw = encodeRawBody(Buffer.from(JSON.stringify(record.report.raw)));
  const inserted = yield step(
    `INSERT INTO callbacks (${CALLBACK_COLUMNS}) VALUES (${placeholders(18)})
     ON CONFLICT (event_id) DO NOTHING RETURNING id`,
    [
      id,
      record.provider,
      record.account,
      record.transactionKey,
      record.transaction.status,
      refunded,
      event.id,
      'accepted',
      'status-api',
      'INQUIRY',
      `${record.method}:${record.provider}`,
      '{}',
      raw.text,
      raw.encoding,
      `${record.method === 'inquiry' ? 'status inquiry' : 'reconciliation'}: ${record.provider} reports ${record.report.providerStatus}`,
      record.at.toISOString(),
      searchableReference(record.transaction.merchantReference),
      null,
    ],
  );
  const recordId = inserted.length > 0 ? id : null;
  const result = yield* applyObservation(context, {
    provider: record.provider,
    account: record.account,
    transactionKey: record.transactionKey,
    status: record.transaction.status,
    refundedTotal: refunded || null,
    observedAt: record.at,
    callbackId: recordId,
    event,
    lease,
  });
  if (recordId && result.verdict !== 'transition') {
    yield step(`UPDATE callbacks SET outcome = ? WHERE id = ?`, [result.verdict, recordId]);
  }
  // Object.assign, not `{ ...result, recordId }`: see IngestService's acceptedRecord (issue 28).
  return Object.assign({}, result, { recordId, event });
}

/** Verification-worker statements in flight per instance (each holds one pooled connection). */
const WORK_CONCURRENCY = 2;

/** Most hints one PostgreSQL statement stores. */
const MAX_BATCH = 100;
/** The batched hint statement's input columns, in the order of insertBatch's rows. */
const HINT_COLUMNS = [...STORED_INPUT_COLUMNS, 'event', 'lease_owner', 'lease_until'];

/** Hints settled per statement when an answer settles many (a flood of variants). */
export const HINT_PAGE = 500;
/** Hints one answer judges at most; the rest keep their transaction due and wait for the next. */
const MAX_JUDGED = 5000;

interface PendingHint {
  callback: AcceptedCallbackRecord;
  event: TransactionEvent;
  lease: Lease;
  resolve: (stored: StoredHintResult) => void;
  reject: (error: unknown) => void;
}

/** A lease held on a transaction's schedule row. */
export interface Lease {
  owner: string;
  until: Date;
}

/**
 * A stored hint: `verifying` (stored) or `duplicate` (the same bytes were stored already); when
 * the transaction's schedule was free, it is leased to the caller right away (`leased`), so the
 * inquiry starts without a claim query.
 */
export interface StoredHintResult {
  outcome: 'verifying' | 'duplicate';
  leased: ScheduledInquiry | null;
}

/** The verdict on one hint, as an answer settles it. */
export interface HintVerdict {
  callbackId: string;
  state: Exclude<VerificationState, 'verifying' | 'published_unverified'>;
  detail: string;
}

/** The outcome of a stored hint's callback row for each verdict. */
const CALLBACK_OUTCOME: Record<HintVerdict['state'], string> = {
  confirmed: 'accepted',
  contradicted: 'contradicted',
  conflicted: 'conflicted',
  unconfirmed: 'unconfirmed',
};

/** How a transaction's schedule row is left after an inquiry (InquirySchedule release). */
export interface ScheduleRelease {
  /** When it is due next; null: nothing scheduled (a waiting hint still makes it due now). */
  nextAt: Date | null;
  attempts: number;
  incomplete: number;
  recheckStep: number | null;
  /** The inquiry the provider answered completely (kept as the proven way to ask). */
  query?: StatusQuery;
  /** Whether the provider was asked (checked_at, checks). */
  asked: boolean;
  result: string;
  error?: string | null;
}

/** Thrown inside a settlement when the lease is no longer the caller's: rolls everything back. */
class LeaseLost extends Error {}

/**
 * Hints and the inquiry schedule. A hint is stored with its callback before the ack (never taking
 * an event's de-duplication slot) and schedules its transaction; transactions are claimed under a
 * lease, one inquiry at a time per transaction across replicas; an answer is applied once and
 * settles every hint that was waiting, in one database transaction with the schedule's release.
 */
@Injectable()
export class VerificationStore {
  private readonly pending = new TurnBatch<PendingHint>((queue) => {
    for (let i = 0; i < queue.length; i += MAX_BATCH)
      void this.writeBatch(queue.slice(i, i + MAX_BATCH));
  });
  private working = 0;
  private readonly workWaiters: Array<() => void> = [];
  /** Batches that failed as a whole and were written hint by hint (a bad row, or a bug: tests read it). */
  batchesRetried = 0;

  constructor(private readonly sql: SqlDialect) {}

  /**
   * The callback (outcome `verifying`, event_id = its hint id), its verification row and its
   * transaction's schedule (due now unless it is backing off; leased to `lease.owner` when free),
   * in one transaction; nothing when the same bytes are stored already (`duplicate`).
   *
   * On PostgreSQL, hints that reach the store in the same event-loop turn are written by one
   * statement; a failed batch is retried hint by hint, so one bad row fails only itself.
   */
  async storeHint(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
    lease: Lease,
  ): Promise<StoredHintResult> {
    if (!this.sql.isPostgres) return this.storeHintOne(callback, event, lease);
    return new Promise((resolve, reject) => {
      this.pending.add({ callback, event, lease, resolve, reject });
    });
  }

  private async writeBatch(batch: PendingHint[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const { stored, leased } = await this.insertBatch(batch);
        for (const item of batch) {
          const isStored = stored.has(item.callback.id);
          // The lease goes to one stored hint of its transaction; the inquiry covers them all.
          const mine = isStored ? (leased.get(transactionOf(item.callback)) ?? null) : null;
          if (mine) leased.delete(transactionOf(item.callback));
          item.resolve({ outcome: isStored ? 'verifying' : 'duplicate', leased: mine });
        }
        return;
      } catch {
        this.batchesRetried += 1;
        // One by one below: each hint gets its own verdict (or its own error).
      }
    }
    await Promise.all(
      batch.map((item) =>
        this.storeHintOne(item.callback, item.event, item.lease).then(item.resolve, item.reject),
      ),
    );
  }

  private async insertBatch(
    batch: PendingHint[],
  ): Promise<{ stored: Set<string>; leased: Map<string, ScheduledInquiry> }> {
    // One jsonb parameter (one statement text for every batch size, planned once per pooled
    // connection; see CallbackStore's batch).
    const rows = batch.map(({ callback, event, lease }) => [
      ...identityParams(callback),
      ...requestParams(callback),
      searchableReference(callback.merchantReference),
      callback.credentialKey ?? null,
      JSON.stringify({ event, transitionKey: callback.transitionKey } satisfies StoredHint),
      lease.owner,
      lease.until.toISOString(),
    ]);
    const result = await this.sql.queryPrepared<{
      id: string | null;
      schedule: string | null;
    }>(
      `WITH input AS (
         SELECT ${jsonbRowColumns('r', HINT_COLUMNS)} FROM jsonb_array_elements(?::jsonb) AS r),
       stored AS (
         INSERT INTO callbacks (${CALLBACK_COLUMNS})
         SELECT id, provider, account, transaction_key, status, transition_key, event_id, 'verifying', source_ip,
                method, path, headers, raw_body, raw_body_encoding, verification, received_at::timestamptz,
                merchant_reference, credential_key
         FROM input
         ON CONFLICT (event_id) DO NOTHING
         RETURNING id),
       waiting AS (
         INSERT INTO verifications (callback_id, provider, account, transaction_key, event, state, attempts,
                                    next_at, created_at)
         SELECT i.id, i.provider, i.account, i.transaction_key, i.event, 'verifying', 0,
                i.received_at::timestamptz, i.received_at::timestamptz
         FROM input i JOIN stored s ON s.id = i.id
         RETURNING callback_id, provider, account, transaction_key, created_at),
       scheduled AS (
         INSERT INTO inquiry_schedule AS s (provider, account, transaction_key, checked_at, checks, next_at,
                                            lease_owner, lease_until)
         SELECT w.provider, w.account, w.transaction_key, MIN(w.created_at), 0, MIN(w.created_at),
                MIN(i.lease_owner), MIN(i.lease_until)::timestamptz
         FROM waiting w JOIN input i ON i.id = w.callback_id
         GROUP BY w.provider, w.account, w.transaction_key
         ON CONFLICT (provider, account, transaction_key) DO UPDATE SET ${SCHEDULE_HINT_UPDATE}
         RETURNING ${SCHEDULE_RETURNING}, lease_owner, lease_until)
       SELECT callback_id AS id, NULL AS schedule FROM waiting
       UNION ALL
       SELECT NULL, json_build_object('provider', provider, 'account', account, 'transaction_key', transaction_key,
                                      'attempts', attempts, 'incomplete', incomplete, 'recheck_step', recheck_step,
                                      'query', query, 'follow_until', follow_until,
                                      'lease_owner', lease_owner, 'lease_until', lease_until)::text
       FROM scheduled`,
      [jsonbRows(rows)],
    );
    const stored = new Set<string>();
    const leased = new Map<string, ScheduledInquiry>();
    const owned = new Set(batch.map(({ lease }) => lease.owner));
    for (const row of result) {
      if (row.id) stored.add(row.id);
      if (!row.schedule) continue;
      const schedule = JSON.parse(row.schedule) as ScheduleRow & {
        lease_owner: string | null;
        lease_until: string | null;
      };
      // Lease tokens are unique per stored hint: a token of this batch means this batch took it.
      if (schedule.lease_owner !== null && owned.has(schedule.lease_owner)) {
        const scheduled = Object.assign(toScheduled(schedule), { owner: schedule.lease_owner });
        leased.set(transactionOf(scheduled), scheduled);
      }
    }
    return { stored, leased };
  }

  /** storeHint as its own transaction (SQLite, and the one-by-one retry of a batch). */
  private storeHintOne(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
    lease: Lease,
  ): Promise<StoredHintResult> {
    const stored: StoredHint = { event, transitionKey: callback.transitionKey };
    const at = callback.receivedAt.toISOString();
    return this.sql.transact(function* () {
      const inserted = yield step(
        `INSERT INTO callbacks (${CALLBACK_COLUMNS}) VALUES (${placeholders(18)})
         ON CONFLICT (event_id) DO NOTHING RETURNING id`,
        [
          ...identityParams(callback),
          'verifying',
          ...requestParams(callback),
          searchableReference(callback.merchantReference),
          callback.credentialKey ?? null,
        ],
      );
      if (inserted.length === 0) return { outcome: 'duplicate' as const, leased: null };
      const [schedule] = (yield* waitingHintSteps(callback, stored, at, lease)) as unknown as Array<
        ScheduleRow & { lease_owner: string | null; lease_until: string | Date | null }
      >;
      // Lease tokens are unique per stored hint: this one's token means this hint took it.
      const mine = schedule?.lease_owner === lease.owner;
      return {
        outcome: 'verifying' as const,
        leased: mine ? Object.assign(toScheduled(schedule), { owner: lease.owner }) : null,
      };
    });
  }

  /**
   * A quarantined callback of a verified provider that now passes validation becomes a hint, in
   * one transaction: its row gets its transaction identity and its hint id, a verification row
   * and its transaction's schedule. `duplicate`: the same bytes are stored as a hint already.
   * Null: it is no longer quarantined.
   */
  async hintFromQuarantine(
    callback: Pick<
      AcceptedCallbackRecord,
      | 'id'
      | 'provider'
      | 'account'
      | 'transactionKey'
      | 'status'
      | 'transitionKey'
      | 'eventId'
      | 'merchantReference'
      | 'receivedAt'
    >,
    event: TransactionEvent,
  ): Promise<'verifying' | 'duplicate' | null> {
    const stored: StoredHint = { event, transitionKey: callback.transitionKey };
    const at = new Date().toISOString();
    return this.sql.transact(function* () {
      const [claimed] = yield step(
        `UPDATE callbacks SET outcome = 'renormalizing' WHERE id = ? AND outcome = 'quarantined' RETURNING id`,
        [callback.id],
      );
      if (!claimed) return null;
      const copies = yield step(`SELECT id FROM callbacks WHERE event_id = ?`, [callback.eventId]);
      const duplicate = copies.length > 0;
      yield step(
        `UPDATE callbacks SET outcome = ?, transaction_key = ?, status = ?, transition_key = ?,
                merchant_reference = ?, event_id = ?
         WHERE id = ?`,
        [
          duplicate ? 'duplicate' : 'verifying',
          callback.transactionKey,
          callback.status,
          callback.transitionKey,
          searchableReference(callback.merchantReference),
          duplicate ? null : callback.eventId,
          callback.id,
        ],
      );
      if (duplicate) return 'duplicate' as const;
      yield* waitingHintSteps(callback, stored, at, null);
      return 'verifying' as const;
    });
  }

  /**
   * Leases up to `limit` transactions whose inquiry is due and free (or whose lease expired),
   * earliest first; `FOR UPDATE SKIP LOCKED` keeps replicas from claiming the same ones.
   */
  async claim(
    owner: string,
    leaseMs: number,
    limit: number,
    providers: string[],
  ): Promise<ScheduledInquiry[]> {
    if (providers.length === 0) return [];
    const now = new Date();
    const lock = this.sql.isPostgres ? 'FOR UPDATE SKIP LOCKED' : '';
    const rows = await this.sql.query<ScheduleRow>(
      `UPDATE inquiry_schedule SET lease_owner = ?, lease_until = ?
       WHERE (provider, account, transaction_key) IN (
         SELECT provider, account, transaction_key FROM inquiry_schedule
         WHERE next_at IS NOT NULL AND next_at <= ? AND (lease_until IS NULL OR lease_until < ?)
           AND provider IN (${placeholders(providers.length)})
         ORDER BY next_at LIMIT ? ${lock})
       RETURNING ${SCHEDULE_RETURNING}`,
      [
        owner,
        new Date(now.getTime() + leaseMs).toISOString(),
        now.toISOString(),
        now.toISOString(),
        ...providers,
        limit,
      ],
    );
    return rows.map(toScheduled);
  }

  /**
   * Leases one transaction now, whatever its schedule (admin "verify now", renormalize), unless
   * another owner holds a lease that has not expired. Creates its schedule row when it has none.
   */
  async claimNow(
    key: TransactionKey,
    owner: string,
    leaseMs: number,
  ): Promise<ScheduledInquiry | null> {
    const now = new Date().toISOString();
    const until = new Date(Date.now() + leaseMs).toISOString();
    const [row] = await this.sql.query<ScheduleRow>(
      `INSERT INTO inquiry_schedule AS s (provider, account, transaction_key, checked_at, checks, next_at,
                                          lease_owner, lease_until)
       VALUES (?, ?, ?, ?, 0, ?, ?, ?)
       ON CONFLICT (provider, account, transaction_key) DO UPDATE
         SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
         WHERE s.lease_until IS NULL OR s.lease_until < ? OR s.lease_owner = excluded.lease_owner
       RETURNING ${SCHEDULE_RETURNING}`,
      [...keyParams(key), now, now, owner, until, now],
    );
    return row ? toScheduled(row) : null;
  }

  /**
   * Schedules transactions for reconciliation (due now) unless they are being asked about or
   * are due sooner already. Returns how many were scheduled.
   */
  async schedule(keys: TransactionKey[]): Promise<number> {
    let count = 0;
    const now = new Date().toISOString();
    for (const key of keys) {
      const rows = await this.sql.query(
        `INSERT INTO inquiry_schedule AS s (provider, account, transaction_key, checked_at, checks, next_at)
         VALUES (?, ?, ?, ?, 0, ?)
         ON CONFLICT (provider, account, transaction_key) DO UPDATE SET next_at = excluded.next_at
           WHERE s.next_at IS NULL OR s.next_at > excluded.next_at
         RETURNING provider`,
        [...keyParams(key), now, now],
      );
      count += rows.length;
    }
    return count;
  }

  /**
   * Hints of a transaction still without a verdict (waiting, or held as unconfirmed: a complete
   * answer settles those too) received up to `before`, oldest first.
   */
  async waitingHints(key: TransactionKey, limit: number, before?: Date): Promise<Hint[]> {
    const rows = await this.sql.query<HintRow>(
      `SELECT callback_id, provider, account, transaction_key, event, state, created_at
       FROM verifications WHERE ${KEY} AND state IN ('verifying', 'unconfirmed') ${before ? 'AND created_at <= ?' : ''}
       ORDER BY created_at, callback_id LIMIT ?`,
      [...keyParams(key), ...(before ? [before.toISOString()] : []), limit],
    );
    return rows.map(toHint);
  }

  /**
   * Everything that follows one inquiry, in one database transaction: the provider's complete
   * answer stored (method INQUIRY) and applied to the transaction's state (`record`), the waiting
   * hints settled with their verdicts (`verdicts`, given the stored answer's id), and the schedule
   * row released (due now when a hint is still waiting and the schedule is not backing off). Null,
   * and nothing written, when the lease is no longer `owner`'s (another replica took over).
   */
  async finish(
    key: TransactionKey,
    owner: string,
    work: {
      record?: InquiryRecord;
      lease?: Lease | null;
      /**
       * The verdicts on the hints still without one that were received up to `cutoff` (loaded in
       * the same transaction, so hints stored while the provider was being asked are judged too).
       */
      verdicts?: (answerId: string | null, waiting: Hint[]) => HintVerdict[];
      cutoff?: Date;
      release: ScheduleRelease;
    },
  ): Promise<
    | (Partial<TransitionResult> & {
        recordId: string | null;
        event: TransactionEvent | null;
        settled: number;
      })
    | null
  > {
    const postgres = this.sql.isPostgres;
    const now = new Date().toISOString();
    type Finished = Partial<TransitionResult> & {
      recordId: string | null;
      event: TransactionEvent | null;
      settled: number;
    };
    const plan = function* (context: SqlPlanContext): SqlPlan<Finished> {
      let applied:
        (TransitionResult & { recordId: string | null; event: TransactionEvent }) | null = null;
      if (work.record) applied = yield* recordInquiry(context, work.record, work.lease ?? null);
      let verdicts: HintVerdict[] = [];
      if (work.verdicts) {
        const rows = (yield step(
          `SELECT callback_id, provider, account, transaction_key, event, state, created_at
           FROM verifications WHERE ${KEY} AND state IN ('verifying', 'unconfirmed') AND created_at <= ?
           ORDER BY created_at, callback_id LIMIT ?`,
          [...keyParams(key), (work.cutoff ?? new Date()).toISOString(), MAX_JUDGED],
        )) as unknown as HintRow[];
        verdicts = work.verdicts(applied?.recordId ?? null, rows.map(toHint));
      }
      const settled = yield* settleHintSteps(verdicts, applied?.recordId ?? null, now);
      const released = yield releaseStep(key, owner, work.release, now, postgres);
      if (released.length === 0) throw new LeaseLost();
      return Object.assign({}, applied ?? {}, {
        recordId: applied?.recordId ?? null,
        event: applied?.event ?? null,
        settled,
      });
    };
    try {
      return await this.work(() => this.sql.transact(plan));
    } catch (error) {
      if (error instanceof LeaseLost) return null;
      throw error;
    }
  }

  /** Gives the transaction back without an answer to apply (see finish). */
  async release(key: TransactionKey, owner: string, release: ScheduleRelease): Promise<void> {
    await this.finish(key, owner, { release });
  }

  /**
   * Puts settled hints of a transaction back to waiting (admin "verify now" of a conflicted or
   * unconfirmed hint: the provider is asked again and the answer judges them anew).
   */
  async reopen(callbackId: string): Promise<void> {
    await this.sql.transact(function* () {
      const rows = yield step(
        `UPDATE verifications SET state = 'verifying', settled_at = NULL
         WHERE callback_id = ? AND state IN ('conflicted', 'unconfirmed', 'contradicted')
         RETURNING callback_id`,
        [callbackId],
      );
      if (rows.length > 0) {
        yield step(`UPDATE callbacks SET outcome = 'verifying' WHERE id = ?`, [callbackId]);
      }
    });
  }

  /**
   * Publishes a hint's claim without the provider (operator): only a hint still `verifying` or
   * `unconfirmed` — never one the provider refuted. The claim goes through the transaction state
   * like any observation. Null when the hint is not in one of those states.
   */
  async publishByOperator(
    callbackId: string,
    verification: EventVerification,
    lease: { owner: string; until: Date } | null,
  ): Promise<{ outbox: OutboxRecord | null; verdict: string } | null> {
    const hint = await this.get(callbackId);
    if (!hint || (hint.state !== 'verifying' && hint.state !== 'unconfirmed')) return null;
    const event = withVerification(hint.event, verification);
    const at = new Date().toISOString();
    const detail = `published without the provider's confirmation by ${verification.by}: ${verification.reason}`;
    return this.work(() =>
      this.sql.transact(function* (context) {
        const owned = yield step(
          `UPDATE verifications SET state = 'published_unverified', detail = ?, settled_at = ?
           WHERE callback_id = ? AND state IN ('verifying', 'unconfirmed') RETURNING callback_id`,
          [detail.slice(0, 2000), at, callbackId],
        );
        if (owned.length === 0) return null;
        const result = yield* applyObservation(context, {
          provider: hint.provider,
          account: hint.account,
          transactionKey: hint.transactionKey,
          status: hint.event.body.data.status as EventStatus,
          refundedTotal: hint.transitionKey || null,
          observedAt: new Date(at),
          callbackId: hint.callbackId,
          event,
          lease,
        });
        yield step(`UPDATE callbacks SET outcome = ? WHERE id = ?`, [
          result.verdict === 'transition' ? 'accepted' : result.verdict,
          callbackId,
        ]);
        return { outbox: result.outbox, verdict: result.verdict };
      }),
    );
  }

  /**
   * At most WORK_CONCURRENCY statements or transactions of the verification worker hold a pooled
   * connection at once: inquiries are off the ack path and never take the connections incoming
   * callbacks are stored with.
   */
  private async work<T>(run: () => Promise<T>): Promise<T> {
    while (this.working >= WORK_CONCURRENCY)
      await new Promise<void>((resolve) => this.workWaiters.push(resolve));
    this.working += 1;
    try {
      return await run();
    } finally {
      this.working -= 1;
      this.workWaiters.shift()?.();
    }
  }

  /** The latest event stored for a transaction (what to ask with when no proven query is kept). */
  async latestEvent(key: TransactionKey): Promise<TransactionEvent | null> {
    const [row] = await this.sql.query<{ payload: string; routing_key: string }>(
      `SELECT o.payload, o.routing_key FROM outbox o
       JOIN callbacks c ON c.id = o.callback_id
       WHERE c.provider = ? AND c.account = ? AND c.transaction_key = ?
       ORDER BY o.created_at DESC LIMIT 1`,
      keyParams(key),
    );
    if (!row) return null;
    const body = JSON.parse(row.payload) as TransactionCloudEvent;
    return {
      id: body.id,
      type: body.type,
      routingKey: row.routing_key,
      provider: key.provider,
      body,
    };
  }

  /** Hints in `state`, oldest first (admin), with what they claim. */
  async list(state: VerificationState, limit: number): Promise<Array<Record<string, unknown>>> {
    return this.sql.query<Record<string, unknown>>(
      `SELECT v.callback_id, v.provider, v.account, v.transaction_key, v.state, v.attempts, v.next_at,
              v.last_error, v.detail, v.created_at, v.settled_at, v.answer_id, v.event,
              s.next_at AS inquiry_next_at, s.last_result, s.last_error AS inquiry_error
       FROM verifications v
       LEFT JOIN inquiry_schedule s
         ON s.provider = v.provider AND s.account = v.account AND s.transaction_key = v.transaction_key
       WHERE v.state = ? ORDER BY v.created_at LIMIT ?`,
      [state, limit],
    );
  }

  async get(callbackId: string): Promise<Hint | null> {
    const [row] = await this.sql.query<HintRow>(
      `SELECT callback_id, provider, account, transaction_key, event, state, created_at
       FROM verifications WHERE callback_id = ?`,
      [callbackId],
    );
    return row ? toHint(row) : null;
  }

  /** The state and detail of one hint (after an admin action). */
  async outcomeOf(
    callbackId: string,
  ): Promise<{ state: VerificationState; detail: string | null } | null> {
    const [row] = await this.sql.query<{ state: VerificationState; detail: string | null }>(
      `SELECT state, detail FROM verifications WHERE callback_id = ?`,
      [callbackId],
    );
    return row ?? null;
  }

  /** Waiting hints and the creation time of the oldest (gateway_verification_oldest_seconds). */
  async backlog(): Promise<{ count: number; oldestCreatedAt: Date | null }> {
    const [row] = await this.sql.query<{ count: string | number; oldest: string | Date | null }>(
      `SELECT COUNT(*) AS count, MIN(created_at) AS oldest FROM verifications WHERE state = 'verifying'`,
    );
    return {
      count: Number(row?.count ?? 0),
      oldestCreatedAt: row?.oldest ? new Date(row.oldest) : null,
    };
  }
}

/**
 * A stored hint makes its transaction due at the hint's time — unless the transaction is backing
 * off after failed asks (then the backoff stands) or is due sooner already — and leases it to the
 * replica that stored the hint when nobody holds it and it is not backing off.
 */
const FREE_FOR_HINT = `excluded.lease_owner IS NOT NULL AND s.attempts = 0
             AND (s.lease_until IS NULL OR s.lease_until < excluded.next_at)`;
const SCHEDULE_HINT_UPDATE = `next_at = CASE
             WHEN s.next_at IS NULL THEN excluded.next_at
             WHEN s.attempts = 0 AND s.next_at > excluded.next_at THEN excluded.next_at
             ELSE s.next_at END,
           lease_owner = CASE WHEN ${FREE_FOR_HINT} THEN excluded.lease_owner ELSE s.lease_owner END,
           lease_until = CASE WHEN ${FREE_FOR_HINT} THEN excluded.lease_until ELSE s.lease_until END`;
const SCHEDULE_RETURNING = `provider, account, transaction_key, attempts, incomplete, recheck_step, query,
  follow_until`;

/** A stored hint's verification row, and its transaction scheduled (one statement each). */
function* waitingHintSteps(
  callback: Pick<AcceptedCallbackRecord, 'id' | 'provider' | 'account' | 'transactionKey'>,
  stored: StoredHint,
  at: string,
  lease: Lease | null,
): SqlPlan<SqlRows> {
  yield step(
    `INSERT INTO verifications (callback_id, provider, account, transaction_key, event, state, attempts,
                                next_at, created_at)
     VALUES (?, ?, ?, ?, ?, 'verifying', 0, ?, ?)`,
    [
      callback.id,
      callback.provider,
      callback.account,
      callback.transactionKey,
      JSON.stringify(stored),
      at,
      at,
    ],
  );
  return yield step(
    `INSERT INTO inquiry_schedule AS s (provider, account, transaction_key, checked_at, checks, next_at,
                                        lease_owner, lease_until)
     VALUES (?, ?, ?, ?, 0, ?, ?, ?)
     ON CONFLICT (provider, account, transaction_key) DO UPDATE SET ${SCHEDULE_HINT_UPDATE}
     RETURNING ${SCHEDULE_RETURNING}, lease_owner, lease_until`,
    [...keyParams(callback), at, at, lease?.owner ?? null, lease?.until.toISOString() ?? null],
  );
}

/** The transaction a callback or a schedule row belongs to, as one string. */
function transactionOf(key: { provider: string; account: string; transactionKey: string }): string {
  return JSON.stringify([key.provider, key.account, key.transactionKey]);
}

/** Settles waiting (or unconfirmed) hints: one statement per distinct verdict, one for their callbacks. */
function* settleHintSteps(
  verdicts: HintVerdict[],
  answerId: string | null,
  at: string,
): SqlPlan<number> {
  const groups = new Map<string, HintVerdict[]>();
  for (const verdict of verdicts) {
    const group = `${verdict.state}\u0000${verdict.detail}`;
    groups.set(group, [...(groups.get(group) ?? []), verdict]);
  }
  let settled = 0;
  for (const group of groups.values()) {
    const { state, detail } = group[0];
    for (let i = 0; i < group.length; i += HINT_PAGE) {
      const ids = group.slice(i, i + HINT_PAGE).map((verdict) => verdict.callbackId);
      const rows = yield step(
        `UPDATE verifications SET state = ?, detail = ?, settled_at = ?, answer_id = COALESCE(?, answer_id)
         WHERE callback_id IN (${placeholders(ids.length)}) AND state IN ('verifying', 'unconfirmed')
         RETURNING callback_id`,
        [state, detail.slice(0, 2000), at, answerId, ...ids],
      );
      if (rows.length === 0) continue;
      settled += rows.length;
      yield step(`UPDATE callbacks SET outcome = ? WHERE id IN (${placeholders(rows.length)})`, [
        CALLBACK_OUTCOME[state],
        ...rows.map((row) => row.callback_id),
      ]);
    }
  }
  return settled;
}

/** Releases a schedule row held by `owner` (no row: the lease is someone else's now). */
function releaseStep(
  key: TransactionKey,
  owner: string,
  next: ScheduleRelease,
  now: string,
  postgres: boolean,
) {
  const ts = postgres ? '?::timestamptz' : '?';
  return step(
    `UPDATE inquiry_schedule SET lease_owner = NULL, lease_until = NULL,
            attempts = ?, incomplete = ?, recheck_step = ?, query = COALESCE(?, query),
            checked_at = CASE WHEN ? = 1 THEN ${ts} ELSE checked_at END, checks = checks + ?,
            last_result = ?, last_error = ?,
            next_at = CASE
              WHEN ? = 0 AND EXISTS (SELECT 1 FROM verifications v
                                     WHERE v.provider = inquiry_schedule.provider
                                       AND v.account = inquiry_schedule.account
                                       AND v.transaction_key = inquiry_schedule.transaction_key
                                       AND v.state = 'verifying')
              THEN ${ts} ELSE ${ts} END
     WHERE ${KEY} AND lease_owner = ?
     RETURNING provider`,
    [
      next.attempts,
      next.incomplete,
      next.recheckStep,
      next.query ? JSON.stringify(next.query) : null,
      next.asked ? 1 : 0,
      now,
      next.asked ? 1 : 0,
      next.result.slice(0, 1000),
      next.error?.slice(0, 1000) ?? null,
      next.attempts,
      now,
      next.nextAt?.toISOString() ?? null,
      ...keyParams(key),
      owner,
    ],
  );
}
