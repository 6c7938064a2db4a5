import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
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
import {
  type AcceptedCallbackRecord,
  encodeRawBody,
  identityParams,
  type OutboxRecord,
  requestParams,
  searchableReference,
} from '../persistence/callback-store.js';
import { SqlDialect, type SqlPlan, type SqlPlanContext, step } from '../persistence/sql-dialect.js';
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
  const digest = createHash('sha256').update(rawBody).digest('hex');
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
    query: row.query ? (JSON.parse(row.query) as StatusQuery) : null,
  };
}

/** The normalized transaction an event was built from (its `data`, with the domain of its type). */
export function transactionOfEvent(event: TransactionEvent): NormalizedTransaction {
  const data = event.body.data;
  return {
    domain: event.type.split('.')[0] as NormalizedTransaction['domain'],
    status: data.status,
    providerStatus: data.providerStatus,
    providerTransactionId: data.providerTransactionId,
    merchantReference: data.merchantReference,
    amount: data.amount,
    currency: data.currency,
    fee: data.fee,
    paymentMethod: data.paymentMethod,
    channel: data.channel,
    product: data.product,
    occurredAt: new Date(data.occurredAt),
    raw: data.raw,
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
  return { ...result, recordId, event };
}

/** Settlement transactions in flight per instance (each holds one pooled connection). */
const SETTLE_CONCURRENCY = 2;

/** Most hints one PostgreSQL statement stores (19 parameters each). */
const MAX_BATCH = 100;

/** Hints settled per statement when an answer settles many (a flood of variants). */
export const HINT_PAGE = 500;

interface PendingHint {
  callback: AcceptedCallbackRecord;
  event: TransactionEvent;
  resolve: (outcome: 'verifying' | 'duplicate') => void;
  reject: (error: unknown) => void;
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

/**
 * Hints and the inquiry schedule. A hint is stored with its callback before the ack (never taking
 * an event's de-duplication slot) and schedules its transaction; transactions are claimed under a
 * lease, one inquiry at a time per transaction across replicas; an answer is applied once and
 * settles every hint that was waiting.
 */
@Injectable()
export class VerificationStore {
  private readonly pending = new TurnBatch<PendingHint>((queue) => {
    for (let i = 0; i < queue.length; i += MAX_BATCH)
      void this.writeBatch(queue.slice(i, i + MAX_BATCH));
  });
  private settling = 0;
  private readonly settleWaiters: Array<() => void> = [];

  constructor(private readonly sql: SqlDialect) {}

  /**
   * The callback (outcome `verifying`, event_id = its hint id), its verification row and its
   * transaction's schedule (due now unless it is backing off), in one transaction; nothing when
   * the same bytes are stored already (`duplicate`).
   *
   * On PostgreSQL, hints that reach the store in the same event-loop turn are written by one
   * statement; a failed batch is retried hint by hint, so one bad row fails only itself.
   */
  async storeHint(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
  ): Promise<'verifying' | 'duplicate'> {
    if (!this.sql.isPostgres) return this.storeHintOne(callback, event);
    return new Promise((resolve, reject) => {
      this.pending.add({ callback, event, resolve, reject });
    });
  }

  private async writeBatch(batch: PendingHint[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const stored = await this.insertBatch(batch);
        for (const item of batch)
          item.resolve(stored.has(item.callback.id) ? 'verifying' : 'duplicate');
        return;
      } catch {
        // One by one below: each hint gets its own verdict (or its own error).
      }
    }
    await Promise.all(
      batch.map((item) =>
        this.storeHintOne(item.callback, item.event).then(item.resolve, item.reject),
      ),
    );
  }

  private async insertBatch(batch: PendingHint[]): Promise<Set<string>> {
    const width = 19;
    const rows = batch.map(() => `(${placeholders(width)})`).join(', ');
    const params = batch.flatMap(({ callback, event }) => [
      ...identityParams(callback),
      ...requestParams(callback),
      searchableReference(callback.merchantReference),
      callback.credentialKey ?? null,
      JSON.stringify({ event, transitionKey: callback.transitionKey } satisfies StoredHint),
    ]);
    const result = await this.sql.queryPrepared<{ id: string }>(
      `WITH input (id, provider, account, transaction_key, status, transition_key, event_id, source_ip, method,
                   path, headers, raw_body, raw_body_encoding, verification, received_at, merchant_reference,
                   credential_key, event)
         AS (VALUES ${rows}),
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
         INSERT INTO inquiry_schedule AS s (provider, account, transaction_key, checked_at, checks, next_at)
         SELECT provider, account, transaction_key, MIN(created_at), 0, MIN(created_at)
         FROM waiting GROUP BY provider, account, transaction_key
         ON CONFLICT (provider, account, transaction_key) DO UPDATE SET ${SCHEDULE_HINT_UPDATE}
         RETURNING 1)
       SELECT callback_id AS id FROM waiting`,
      params,
    );
    return new Set(result.map((row) => row.id));
  }

  /** storeHint as its own transaction (SQLite, and the one-by-one retry of a batch). */
  private storeHintOne(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
  ): Promise<'verifying' | 'duplicate'> {
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
      if (inserted.length === 0) return 'duplicate' as const;
      yield* waitingHintSteps(callback, stored, at);
      return 'verifying' as const;
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
      yield* waitingHintSteps(callback, stored, at);
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
       RETURNING provider, account, transaction_key, attempts, incomplete, recheck_step, query`,
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
       RETURNING provider, account, transaction_key, attempts, incomplete, recheck_step, query`,
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
   * Applies the provider's complete answer (stored as an INQUIRY record) to the transaction's
   * state, in one transaction that holds the lease. Null when the lease is no longer `owner`'s.
   */
  async applyAnswer(
    key: TransactionKey,
    owner: string,
    record: InquiryRecord,
    lease: { owner: string; until: Date } | null,
  ): Promise<(TransitionResult & { recordId: string | null; event: TransactionEvent }) | null> {
    return this.settlement(() =>
      this.sql.transact(function* (context) {
        const held = yield step(
          `SELECT 1 FROM inquiry_schedule WHERE ${KEY} AND lease_owner = ?${context.postgres ? ' FOR UPDATE' : ''}`,
          [...keyParams(key), owner],
        );
        if (held.length === 0) return null;
        return yield* recordInquiry(context, record, lease);
      }),
    );
  }

  /** Settles hints (still waiting) with their verdicts; the answer record that settled them, if any. */
  async settleHints(verdicts: HintVerdict[], answerId: string | null): Promise<number> {
    if (verdicts.length === 0) return 0;
    const at = new Date().toISOString();
    return this.settlement(() =>
      this.sql.transact(function* () {
        let settled = 0;
        for (const verdict of verdicts) {
          const rows = yield step(
            `UPDATE verifications SET state = ?, detail = ?, settled_at = ?, answer_id = COALESCE(?, answer_id)
             WHERE callback_id = ? AND state IN ('verifying', 'unconfirmed') RETURNING callback_id`,
            [verdict.state, verdict.detail.slice(0, 2000), at, answerId, verdict.callbackId],
          );
          if (rows.length === 0) continue;
          settled += 1;
          yield step(`UPDATE callbacks SET outcome = ? WHERE id = ?`, [
            CALLBACK_OUTCOME[verdict.state],
            verdict.callbackId,
          ]);
        }
        return settled;
      }),
    );
  }

  /**
   * Gives the transaction back after an inquiry: the next time it is due (null: nothing
   * scheduled) — but due now when a hint is still waiting (one that arrived while the inquiry was
   * in flight) and the schedule is not backing off.
   */
  async release(
    key: TransactionKey,
    owner: string,
    next: {
      nextAt: Date | null;
      attempts: number;
      incomplete: number;
      recheckStep: number | null;
      query?: StatusQuery;
      asked: boolean;
      result: string;
      error?: string | null;
    },
  ): Promise<void> {
    const now = new Date().toISOString();
    const ts = this.sql.isPostgres ? '?::timestamptz' : '?';
    await this.sql.query(
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
       WHERE ${KEY} AND lease_owner = ?`,
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
    return this.settlement(() =>
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

  /** At most SETTLE_CONCURRENCY settlements hold a pooled connection at once (off the ack path). */
  private async settlement<T>(run: () => Promise<T>): Promise<T> {
    while (this.settling >= SETTLE_CONCURRENCY)
      await new Promise<void>((resolve) => this.settleWaiters.push(resolve));
    this.settling += 1;
    try {
      return await run();
    } finally {
      this.settling -= 1;
      this.settleWaiters.shift()?.();
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
 * off after failed asks (then the backoff stands) or is due sooner already.
 */
const SCHEDULE_HINT_UPDATE = `next_at = CASE
             WHEN s.next_at IS NULL THEN excluded.next_at
             WHEN s.attempts = 0 AND s.next_at > excluded.next_at THEN excluded.next_at
             ELSE s.next_at END`;

/** A stored hint's verification row, and its transaction scheduled (one statement each). */
function* waitingHintSteps(
  callback: Pick<AcceptedCallbackRecord, 'id' | 'provider' | 'account' | 'transactionKey'>,
  stored: StoredHint,
  at: string,
): SqlPlan<void> {
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
  yield step(
    `INSERT INTO inquiry_schedule AS s (provider, account, transaction_key, checked_at, checks, next_at)
     VALUES (?, ?, ?, ?, 0, ?)
     ON CONFLICT (provider, account, transaction_key) DO UPDATE SET ${SCHEDULE_HINT_UPDATE}`,
    [...keyParams(callback), at, at],
  );
}
