import { maskNumber, maskPersonalData } from '../common/personal-data.js';
import type { TransactionCloudEvent } from './transaction-event.js';

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
  const keep = new Set(
    [data.providerTransactionId, data.merchantReference, body.subject].filter(
      (value): value is string => typeof value === 'string',
    ),
  );
  if (data.raw && typeof data.raw === 'object') data.raw = maskPersonalData(data.raw, keep);
  if (data.product && typeof data.product.destination === 'string') {
    data.product = { ...data.product, destination: maskNumber(data.product.destination) };
  }
  return JSON.stringify(body);
}
