import type { EventStatus } from '../../events/normalized-transaction.js';

// Source: PROVIDERS.md (S88Pay section), correcting seed 000 ("Callback Pembayaran (Operator)").

/**
 * `transaction_status`, sent as an integer or a string. 4 is "manual process": money has not
 * moved yet, so it is pending. String forms are matched case-insensitively.
 */
export const S88PAY_STATUS: Record<string, EventStatus> = {
  '1': 'pending',
  pending: 'pending',
  '2': 'succeeded',
  completed: 'succeeded',
  success: 'succeeded',
  '3': 'failed',
  failed: 'failed',
  '4': 'pending',
};

/** Fields of the decrypted payload that hold credentials: never stored or published. */
export const S88PAY_SECRET_FIELDS = /^(merchant_)?(api|secret)_?key$/i;

/** Account name when the decrypted payload carries no `merchant_code`. */
export const S88PAY_DEFAULT_ACCOUNT = 'default';

/** S88Pay reads the HTTP status; a public integration answers with the body `success`. */
export const S88PAY_ACK = { status: 200, contentType: 'text/plain', body: 'success' };

/** Largest accepted body. `key` (a few hundred base64 characters) plus two codes: 16 KB leaves ample room. */
export const S88PAY_BODY_LIMIT = '16kb';

// Transaction status API, from S88Pay's merchant API documentation.

/** `POST {S88PAY_API_URL}` + this path, form body `key=`. */
export function s88payStatusPath(merchantCode: string): string {
  return `/api/v1/${encodeURIComponent(merchantCode)}/transactions/status`;
}

/** The status API's `status` words (its `data[]` entries), lower-cased before lookup. */
export const S88PAY_API_STATUS: Record<string, EventStatus> = {
  pending: 'pending',
  processing: 'pending',
  completed: 'succeeded',
  success: 'succeeded',
  failed: 'failed',
  expired: 'expired',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  refunded: 'refunded',
};

/**
 * `code` of a status answer `{ success: false, code, message }` (HTTP 200) that refuses our
 * credentials: 115, a wrong merchant code or merchant_api_key (or a key that does not decrypt
 * with them). Source: S88Pay's credential refusal as recorded in issue 21; the seed and
 * PROVIDERS.md carry no error table.
 */
export const S88PAY_API_CREDENTIAL_REFUSALS: Record<string, string> = {
  '115': 'S88Pay refuses the merchant code or merchant_api_key',
};
