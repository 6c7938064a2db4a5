import { Injectable } from '@nestjs/common';
import type { EventStatus } from '../events/normalized-transaction.js';
import { renderPayload, type TransactionEvent } from '../events/transaction-event.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { OUTBOX_COLUMNS, type OutboxRecord, outboxRowParams } from '../outbox/outbox-record.js';
import { SqlDialect, type SqlPlan, type SqlPlanContext, step } from '../persistence/sql-dialect.js';
import { decideTransition, type TransitionVerdict } from '../events/transitions.js';

/** A status seen for one transaction: from a callback, a status inquiry, an order answer, … */
export interface StateObservation {
  provider: string;
  account: string;
  transactionKey: string;
  status: EventStatus;
  /** The transition discriminator: canonical refunded total of a `refunded` (transitionKeyOf), else null. */
  refundedTotal: string | null;
  observedAt: Date;
  /** The stored callback it came from (callbacks.id); null for other sources. */
  callbackId: string | null;
  /**
   * The event to store in the outbox when it is a transition, built by buildTransactionEvent
   * (without transition fields: they are added here). Null: move the state only.
   */
  event: TransactionEvent | null;
  /** The relay's lease for the new outbox row (OutboxRelay.leaseForNewRow()), or null. */
  lease?: { owner: string; until: Date } | null;
}

export type TransitionResult =
  | {
      verdict: 'transition';
      /** The state's version after this observation (nextVersion: ordered, clock-derived). */
      version: number;
      previousStatus: EventStatus | null;
      /** The outbox row written (null when no event was given): publish it after the commit. */
      outbox: OutboxRecord | null;
    }
  | {
      /** `duplicate`: the state already holds exactly this; `superseded`: not a transition. */
      verdict: Exclude<TransitionVerdict, 'transition'>;
      version: number;
      /** The state's current status, unchanged. */
      status: EventStatus;
      outbox: null;
    };

const KEY = `provider = ? AND account = ? AND transaction_key = ?`;

/**
 * A transition's version: higher than the previous one, and never lower than the gateway's clock
 * in epoch milliseconds when it records the transition. Versions of one transaction stay ordered
 * across a loss of the database's latest writes (a restore, an asynchronous failover): a status
 * recorded afterwards starts again from the clock, above every version published before the loss
 * as long as the replicas' clocks agree within the time the recovery took. Consumers compare
 * versions, never count them. The batched callback write computes the same in SQL
 * (callback-store.ts, `GREATEST(state.version + 1, <receipt time in ms>)`).
 */
export function nextVersion(previous: number | null, clockMs: number): number {
  return Math.max(previous === null ? 1 : previous + 1, Math.floor(clockMs));
}

/**
 * The reusable state operation, as a plan: applies `observation` to the transaction's state row and,
 * when it is a transition, writes the outbox row — all inside the caller's transaction. Compose it
 * with the caller's own statements (`yield* applyObservation(context, observation)` inside a plan
 * given to SqlDialect.transact), or run it alone with TransactionStates.apply.
 *
 * Concurrency: the first observation inserts the row (ON CONFLICT DO NOTHING waits for a concurrent
 * first insert), every later one locks it (FOR UPDATE on PostgreSQL; SQLite transactions are
 * serial), so observations of one transaction serialize on its row.
 */
export function* applyObservation(
  context: SqlPlanContext,
  observation: StateObservation,
): SqlPlan<TransitionResult> {
  const key = [observation.provider, observation.account, observation.transactionKey];
  const at = observation.observedAt.toISOString();
  const clock = Date.now();
  const created = yield step(
    `INSERT INTO transactions (provider, account, transaction_key, status, previous_status, refunded_total,
                               version, first_callback_id, last_callback_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (provider, account, transaction_key) DO NOTHING RETURNING version`,
    [
      ...key,
      observation.status,
      observation.refundedTotal,
      nextVersion(null, clock),
      observation.callbackId,
      observation.callbackId,
      at,
      at,
    ],
  );
  let version = nextVersion(null, clock);
  let previousStatus: EventStatus | null = null;
  if (created.length === 0) {
    const [current] = (yield step(
      `SELECT status, refunded_total, version FROM transactions WHERE ${KEY}${context.postgres ? ' FOR UPDATE' : ''}`,
      key,
    )) as { status: EventStatus; refunded_total: string | null; version: number | string }[];
    const verdict = decideTransition(
      { status: current.status, refundedTotal: current.refunded_total },
      { status: observation.status, refundedTotal: observation.refundedTotal },
    );
    if (verdict !== 'transition') {
      return { verdict, version: Number(current.version), status: current.status, outbox: null };
    }
    version = nextVersion(Number(current.version), clock);
    yield step(
      `UPDATE transactions SET previous_status = status, status = ?, refunded_total = ?, version = ?,
              last_callback_id = COALESCE(?, last_callback_id), updated_at = ?
       WHERE ${KEY}`,
      [observation.status, observation.refundedTotal, version, observation.callbackId, at, ...key],
    );
    previousStatus = current.status;
  }

  let outbox: OutboxRecord | null = null;
  if (observation.event) {
    const { event, lease } = observation;
    outbox = {
      eventId: event.id,
      provider: event.provider,
      eventType: event.type,
      routingKey: event.routingKey,
      payload: renderPayload(event.body, { previousStatus, transactionVersion: version }),
      createdAt: observation.observedAt,
    };
    yield step(
      `INSERT INTO outbox ${OUTBOX_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      outboxRowParams(outbox, observation.callbackId, lease),
    );
  }
  return { verdict: 'transition', version, previousStatus, outbox };
}

/** The state of one transaction, as stored. */
export interface TransactionStateRow {
  provider: string;
  account: string;
  transaction_key: string;
  status: EventStatus;
  previous_status: EventStatus | null;
  refunded_total: string | null;
  version: number | string;
  first_callback_id: string | null;
  last_callback_id: string | null;
  created_at: string | Date;
  updated_at: string | Date;
}

/** The state operation for callers outside the HTTP callback path (inquiries, order answers, …). */
@Injectable()
export class TransactionStates {
  constructor(
    private readonly sql: SqlDialect,
    private readonly relay: OutboxRelay,
  ) {}

  /**
   * Applies the observation in its own transaction and, when it wrote an event, hands it to the
   * relay after the commit. The event's lease is taken here when the observation has none.
   */
  async apply(observation: StateObservation): Promise<TransitionResult> {
    const lease = observation.lease === undefined ? this.relay.leaseForNewRow() : observation.lease;
    const result = await this.sql.transact((context) =>
      // Object.assign, not `{ ...observation, lease }`: see IngestService's acceptedRecord (issue 28).
      applyObservation(context, Object.assign({}, observation, { lease })),
    );
    if (result.outbox) {
      if (lease) this.relay.publishCommitted(result.outbox);
      else void this.relay.sweep();
    }
    return result;
  }

  async get(
    provider: string,
    account: string,
    transactionKey: string,
  ): Promise<TransactionStateRow | null> {
    const [row] = await this.sql.query<TransactionStateRow>(
      `SELECT provider, account, transaction_key, status, previous_status, refunded_total, version,
              first_callback_id, last_callback_id, created_at, updated_at
       FROM transactions WHERE ${KEY}`,
      [provider, account, transactionKey],
    );
    return row ?? null;
  }
}
