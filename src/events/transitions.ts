import { compareDecimals } from '../common/decimal.js';
import { EVENT_STATUSES, type EventStatus } from './normalized-transaction.js';

/**
 * What a further observation of the same status must carry to be news: `more-refunded` — a larger
 * refunded total than the state holds (a further partial refund is new money; a re-sent one is not).
 */
export type TransitionCondition = 'more-refunded';

export interface TransitionRule {
  from: EventStatus;
  to: readonly EventStatus[];
  /** When set, the move is a transition only if the condition holds. */
  when?: TransitionCondition;
}

/**
 * THE transition table: one forward-only state per (provider, account, transaction). Anything not
 * listed here is not a transition — the observation is kept (`superseded`) and publishes nothing.
 * docs/transactions.md prints this table; keep the two in step.
 */
export const TRANSITIONS: readonly TransitionRule[] = [
  { from: 'pending', to: EVENT_STATUSES.filter((status) => status !== 'pending') },
  // A late payment: e.g. a virtual account paid after its expiry.
  { from: 'failed', to: ['succeeded'] },
  { from: 'expired', to: ['succeeded'] },
  // A refund, a reversal, a void.
  { from: 'succeeded', to: ['refunded', 'reversed', 'cancelled'] },
  { from: 'refunded', to: ['refunded'], when: 'more-refunded' },
];

/** What the state holds, or what was observed: a status and its transition discriminator. */
export interface StatusObservation {
  status: EventStatus;
  /** Canonical decimal refunded total for `refunded` where the provider reports one, else null. */
  refundedTotal: string | null;
}

export type TransitionVerdict = 'transition' | 'duplicate' | 'superseded';

function conditionHolds(
  condition: TransitionCondition,
  current: StatusObservation,
  observed: StatusObservation,
): boolean {
  switch (condition) {
    case 'more-refunded':
      return (
        observed.refundedTotal !== null &&
        (current.refundedTotal === null ||
          compareDecimals(observed.refundedTotal, current.refundedTotal) > 0)
      );
  }
}

/**
 * The verdict on an observation given the current state (null: the first observation, always a
 * transition). `duplicate`: the state already holds exactly this (status and discriminator).
 */
export function decideTransition(
  current: StatusObservation | null,
  observed: StatusObservation,
): TransitionVerdict {
  if (current === null) return 'transition';
  for (const rule of TRANSITIONS) {
    if (rule.from !== current.status || !rule.to.includes(observed.status)) continue;
    if (!rule.when || conditionHolds(rule.when, current, observed)) return 'transition';
  }
  const same =
    current.status === observed.status && current.refundedTotal === observed.refundedTotal;
  return same ? 'duplicate' : 'superseded';
}

/** PostgreSQL text of each condition, on the state row `current` and the proposed row `observed`. */
const POSTGRES_CONDITIONS: Record<TransitionCondition, (c: string, o: string) => string> = {
  'more-refunded': (c, o) =>
    `(${o}.refunded_total IS NOT NULL AND (${c}.refunded_total IS NULL OR ` +
    `${o}.refunded_total::numeric > ${c}.refunded_total::numeric))`,
};

/**
 * The same table as one PostgreSQL boolean expression over two aliases holding `status` and
 * `refunded_total` (the batched write path decides inside its single statement). The statuses are
 * the closed set's literals, never input. test/unit/transitions.test.ts checks it agrees with
 * decideTransition for every pair.
 */
export function postgresTransitionPredicate(current: string, observed: string): string {
  const literal = (status: EventStatus) => {
    if (!/^[a-z]+$/.test(status)) throw new Error(`not a status literal: ${status}`);
    return `'${status}'`;
  };
  return TRANSITIONS.map((rule) => {
    const parts = [
      `${current}.status = ${literal(rule.from)}`,
      `${observed}.status IN (${rule.to.map(literal).join(', ')})`,
    ];
    if (rule.when) parts.push(POSTGRES_CONDITIONS[rule.when](current, observed));
    return `(${parts.join(' AND ')})`;
  }).join(' OR ');
}
