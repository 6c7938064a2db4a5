import type { EventStatus } from '../events/normalized-transaction.js';
import type { ProviderReport } from './status-api.js';

/** What the callback claimed, as the gateway normalized it. */
export interface ClaimedTransaction {
  status: EventStatus;
  providerTransactionId: string | null;
  merchantReference: string;
  amount: string | null;
  currency: string | null;
}

/**
 * - `confirmed`: the provider reports the same status, amount, currency and reference.
 * - `contradicted`: the facts agree but the provider reports another status (which is applied).
 * - `conflicted`: the facts disagree (or the provider does not know it): nothing is published.
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
 * Compares the provider's report with the callback. A fact the provider does not report is not
 * held against the callback; a fact it reports differently is a conflict. `extra` are the
 * provider-specific disagreements (ProviderStatusApi.mismatches).
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
  if (report.amount !== null && claimed.amount !== null) {
    const reported = canonicalAmount(report.amount);
    if (reported === null || reported !== canonicalAmount(claimed.amount))
      differences.push('amount');
  }
  if (
    report.currency !== null &&
    claimed.currency !== null &&
    report.currency.toUpperCase() !== claimed.currency.toUpperCase()
  )
    differences.push('currency');
  differences.push(...extra);
  if (differences.length > 0) {
    return {
      outcome: 'conflicted',
      reason: `the provider reports another ${differences.join(', ')} than the callback`,
    };
  }
  if (report.status === claimed.status) return { outcome: 'confirmed' };
  return { outcome: 'contradicted', status: report.status };
}
