import { canonicalDecimal, isDecimalString } from '../common/decimal.js';
import type { EventStatus } from '../events/normalized-transaction.js';
import type { ProviderReport, RequiredFact, StatusQuery } from './status-api.js';

/** What a callback (a hint) claimed, as the gateway normalized it. */
export interface ClaimedTransaction {
  status: EventStatus;
  providerTransactionId: string | null;
  merchantReference: string;
  amount: string | null;
  currency: string | null;
  /** The refunded total a `refunded` claims (canonical decimal), else null. */
  refundedTotal?: string | null;
}

/**
 * The provider's answer judged against one hint:
 * - `confirmed`: the answer states the hint's status, amount, currency, reference (and refunded total);
 * - `contradicted`: the facts agree but the answer states another status;
 * - `conflicted`: the answer states another amount, currency, reference, id or refunded total.
 * Whatever the verdict, the event is the answer's, not the hint's.
 */
export type Verdict =
  | { outcome: 'confirmed' }
  | { outcome: 'contradicted'; status: EventStatus }
  | { outcome: 'conflicted'; reason: string };

/** A decimal numeral without sign noise, leading or trailing zeros: `0150000.50` → `150000.5`. */
export function canonicalAmount(value: string): string | null {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) return null;
  const whole = match[2].replace(/^0+(?=\d)/, '');
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const text = fraction ? `${whole}.${fraction}` : whole;
  return match[1] && text !== '0' ? `-${text}` : text;
}

/**
 * Why an answer cannot be the event, or null when it can: a fact the event needs that the answer
 * does not state (`incomplete`: ask again, never a confirmation), or an answer about another
 * transaction than the one asked about (`other`: the provider's id differs from the one asked).
 */
export function answerProblem(
  report: ProviderReport,
  query: StatusQuery,
  required: readonly RequiredFact[],
): { kind: 'incomplete' | 'other'; reason: string } | null {
  const missing = required.filter((fact) => {
    const value = report[fact];
    return value === null || value === undefined || String(value).trim() === '';
  });
  if (report.amount !== null && canonicalAmount(report.amount) === null) missing.push('amount');
  const named: string[] = missing;
  if (report.providerStatus.trim() === '') named.unshift('status');
  if (named.length > 0) {
    return {
      kind: 'incomplete',
      reason: `the provider's answer does not state ${[...new Set(named)].join(', ')}`,
    };
  }
  if (
    query.providerTransactionId !== null &&
    report.providerTransactionId !== null &&
    report.providerTransactionId !== query.providerTransactionId
  ) {
    return {
      kind: 'other',
      reason: `the provider answered about transaction ${report.providerTransactionId}, not ${query.providerTransactionId}`,
    };
  }
  return null;
}

const sameAmount = (a: string, b: string) =>
  canonicalAmount(a) !== null && canonicalAmount(a) === canonicalAmount(b);

function sameTotal(a: string, b: string): boolean {
  return isDecimalString(a) && isDecimalString(b) && canonicalDecimal(a) === canonicalDecimal(b);
}

/**
 * Compares a hint's claim with the provider's (complete) answer. Every fact the hint claims is
 * held against the answer; `extra` are provider-specific disagreements (ProviderStatusApi.mismatches).
 */
export function judge(
  claimed: ClaimedTransaction,
  report: ProviderReport,
  extra: string[] = [],
): Verdict {
  const differences: string[] = [];
  if (report.merchantReference !== null && report.merchantReference !== claimed.merchantReference)
    differences.push('merchant reference');
  if (
    report.providerTransactionId !== null &&
    claimed.providerTransactionId !== null &&
    report.providerTransactionId !== claimed.providerTransactionId
  )
    differences.push('provider transaction id');
  if (
    report.amount !== null &&
    claimed.amount !== null &&
    !sameAmount(report.amount, claimed.amount)
  )
    differences.push('amount');
  if (
    report.currency !== null &&
    claimed.currency !== null &&
    report.currency.toUpperCase() !== claimed.currency.toUpperCase()
  )
    differences.push('currency');
  if (
    claimed.status === 'refunded' &&
    report.status === 'refunded' &&
    claimed.refundedTotal &&
    !(report.refundedTotal && sameTotal(report.refundedTotal, claimed.refundedTotal))
  )
    differences.push('refunded total');
  differences.push(...extra);
  if (differences.length > 0) {
    return {
      outcome: 'conflicted',
      reason: `the provider reports another ${[...new Set(differences)].join(', ')} than the callback`,
    };
  }
  if (report.status === claimed.status) return { outcome: 'confirmed' };
  return { outcome: 'contradicted', status: report.status };
}
