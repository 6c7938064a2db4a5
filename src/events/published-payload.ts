import { maskNumber, maskPersonalData } from '../common/personal-data.js';
import {
  type EventTransition,
  hasTransition,
  type TransactionCloudEvent,
  type TransactionEventData,
} from './transaction-event.js';

/** What events carry of a customer's personal data (EVENTS_PERSONAL_DATA). */
export type PersonalDataPolicy = 'mask' | 'publish';

/**
 * The message body the exchange receives for a stored event payload. The stored payload (the
 * gateway's own record, like the raw callback: admin API only, under retention) stays whole; with
 * the default `mask` policy the published copy has `data.raw`'s personal data masked (names,
 * e-mail addresses, phone and card numbers; see maskPersonalData) and a top-up's
 * `data.product.destination` (the customer's number) masked as `0812****214`. The transaction's
 * own ids are never altered. `publish` sends the stored payload unchanged. Event ids do not
 * depend on either.
 *
 * The payload is JSON.stringify output, so parsing and writing it again is exact.
 */
export function publishedPayload(payload: string, policy: PersonalDataPolicy = 'mask'): string {
  if (policy === 'publish') return payload;
  const body = JSON.parse(payload) as TransactionCloudEvent;
  const data = body.data;
  if (!data || typeof data !== 'object') return payload;
  maskData(body, data);
  return JSON.stringify(body);
}

/**
 * Exactly `publishedPayload(renderPayload(body, transition), policy)`, without writing the
 * payload and parsing it again: for an event published right after the commit that stored it,
 * whose body the gateway still holds (issue 28: the parse was a tenth of a callback's
 * allocations). The body is not changed.
 */
export function publishedBody(
  body: TransactionCloudEvent,
  transition: EventTransition,
  policy: PersonalDataPolicy = 'mask',
): string {
  // The stored payload's order: data's own members, then the transition's two (renderPayload).
  // Object.assign, and `delete` only when there is something to delete: a spread copy that grows
  // by two members, or one with deletes, is one JSON.stringify writes at half the speed (issue 28).
  const data: Partial<TransactionEventData> = Object.assign({}, body.data);
  if (hasTransition(body.data)) {
    delete data.previousStatus;
    delete data.transactionVersion;
  }
  data.previousStatus = transition.previousStatus;
  data.transactionVersion = transition.transactionVersion;
  const copy = { ...body, data: data as TransactionEventData };
  if (policy === 'mask') maskData(copy, copy.data);
  return JSON.stringify(copy);
}

/** Masks `data.raw` and a top-up's destination in place (data is the body's, or a copy). */
function maskData(body: TransactionCloudEvent, data: TransactionEventData): void {
  const keep = new Set(
    [data.providerTransactionId, data.merchantReference, body.subject].filter(
      (value): value is string => typeof value === 'string',
    ),
  );
  if (data.raw && typeof data.raw === 'object') data.raw = maskPersonalData(data.raw, keep);
  if (data.product && typeof data.product.destination === 'string') {
    data.product = { ...data.product, destination: maskNumber(data.product.destination) };
  }
}
