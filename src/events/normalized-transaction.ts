import { canonicalDecimal } from '../common/decimal.js';

/** The closed set of normalized statuses (EVENTS.md). */
export const EVENT_STATUSES = [
  'succeeded',
  'pending',
  'failed',
  'expired',
  'refunded',
  'reversed',
  'cancelled',
] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** `payment` for money movements, `topup` for PPOB product fulfilment. */
export type EventDomain = 'payment' | 'topup';

export interface TopupProduct {
  code: string | null;
  destination: string | null;
  serialNumber: string | null;
}

/** What a provider's mapper produces from one validated callback. */
export interface NormalizedTransaction {
  domain: EventDomain;
  status: EventStatus;
  /** The provider's own status value, verbatim. */
  providerStatus: string;
  providerTransactionId: string | null;
  merchantReference: string;
  /** Decimal string, never a float. */
  amount: string | null;
  /** ISO 4217, upper case. */
  currency: string;
  fee: string | null;
  paymentMethod: string | null;
  channel: string | null;
  product: TopupProduct | null;
  /** When the provider says it happened, if it says. */
  occurredAt: Date | null;
  /** Every field the provider sent (decrypted / decoded), unchanged. */
  raw: Record<string, unknown>;
  /**
   * `merchantReference`: set where the provider's own id is not what every message about the
   * transaction carries (a top-up order's answer and its later report share only the merchant's
   * refid): the transaction is then identified by merchantReference.
   * `taggedMerchantReference`: the provider has two id spaces (S88Pay transaction_no and
   * transaction_code); without its own id the transaction is keyed by `ref:<merchantReference>`.
   */
  identifiedBy?: 'merchantReference' | 'taggedMerchantReference';
  /**
   * For `refunded`: the total refunded so far, where the provider reports it (decimal string).
   * Not published; it tells a further partial refund (new money) from a re-sent one.
   */
  refundedTotal?: string | null;
}

/**
 * The transaction identity used for de-duplication and the event id: the provider's id where it
 * sends one, else the merchant's reference (PPOB reports carry only ref_id).
 */
export function transactionKeyOf(tx: NormalizedTransaction): string {
  if (tx.identifiedBy === 'merchantReference') return tx.merchantReference;
  // A provider with two id spaces (S88Pay: transaction_no and transaction_code) keys a
  // transaction without its id by the tagged reference, so a code never equals another's number.
  if (tx.providerTransactionId === null && tx.identifiedBy === 'taggedMerchantReference')
    return `${MERCHANT_REFERENCE_TAG}${tx.merchantReference}`;
  return tx.providerTransactionId ?? tx.merchantReference;
}

/** The prefix of a transaction key that is a merchant reference in a provider's other id space. */
export const MERCHANT_REFERENCE_TAG = 'ref:';

/**
 * What distinguishes two observations of the same status that are both news: the canonical
 * refunded total of a `refunded` that carries one, else '' (callbacks.transition_key).
 */
export function transitionKeyOf(
  tx: Pick<NormalizedTransaction, 'status' | 'refundedTotal'>,
): string {
  return tx.status === 'refunded' && tx.refundedTotal ? canonicalDecimal(tx.refundedTotal) : '';
}
