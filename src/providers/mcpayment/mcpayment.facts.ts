import type { EventStatus } from '../../events/normalized-transaction.js';

// Source: PROVIDERS.md (MCPayment section), from MCPayment's "Notification Callback VA PG3" page.

/** The header MCPayment signs every callback with. */
export const MCPAYMENT_SIGNATURE_HEADER = 'mcp-signature';

/** `transaction_status`, upper-cased before lookup (MCPayment's casing is not guaranteed). */
export const MCPAYMENT_STATUS: Record<string, EventStatus> = {
  PAID: 'succeeded',
  SUCCESS: 'succeeded',
  ACTIVE: 'pending',
  PROCESSING: 'pending',
  EXPIRED: 'expired',
  CANCELED: 'cancelled',
  FAILED: 'failed',
  REFUNDED: 'refunded',
  VOID: 'cancelled',
};

/** `payment_method` → EVENTS.md vocabulary; anything else becomes lower snake case as sent. */
export const MCPAYMENT_PAYMENT_METHOD: Record<string, string> = {
  BANK_TRANSFER: 'bank_transfer',
  VA: 'virtual_account',
  VIRTUAL_ACCOUNT: 'virtual_account',
  EWALLET: 'ewallet',
  E_WALLET: 'ewallet',
  QRIS: 'qris',
  CREDIT_CARD: 'card',
  DEBIT_CARD: 'card',
  CARD: 'card',
  RETAIL: 'convenience_store',
  OTC: 'convenience_store',
  PAYLATER: 'paylater',
};

/** Anything but 200 + this JSON body makes MCPayment retry (2–3 times). */
export const MCPAYMENT_ACK = {
  status: 200,
  contentType: 'application/json',
  body: '{"message":"SUCCESS"}',
};

/** The normalized status for a `transaction_status` value, case-insensitively; undefined if unknown. */
export function mcpaymentStatus(value: string): EventStatus | undefined {
  const key = value.trim().toUpperCase();
  return Object.hasOwn(MCPAYMENT_STATUS, key) ? MCPAYMENT_STATUS[key] : undefined;
}

/** `payment_method` in the EVENTS.md vocabulary (`BANK_TRANSFER` → `bank_transfer`, `VA` → `virtual_account`). */
export function mcpaymentPaymentMethod(value: string | undefined): string | null {
  const key = (value ?? '')
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (key.length === 0) return null;
  return Object.hasOwn(MCPAYMENT_PAYMENT_METHOD, key)
    ? MCPAYMENT_PAYMENT_METHOD[key]
    : key.toLowerCase();
}

/** Largest accepted body. Carries item_details, addresses and payment/refund histories: allow more than the flat providers. */
export const MCPAYMENT_BODY_LIMIT = '64kb';

// Inquiry, from iFortepay's API pages and client libraries; the answer's schema is not published.

/** Virtual account inquiry (`payment_method: "BANK_TRANSFER"`). */
export const MCPAYMENT_VA_INQUIRY_PATH = '/va/inquiry';
/** E-wallet inquiry (`payment_method: "wallet"`). */
export const MCPAYMENT_EWALLET_INQUIRY_PATH = '/ewallet/v2/inquiry';
/** Sent as `x-version` on every API request. */
export const MCPAYMENT_API_VERSION = 'v3';
/** `payment_method` values (upper-cased) of an e-wallet payment. */
export const MCPAYMENT_EWALLET_METHODS = new Set(['EWALLET', 'E_WALLET', 'WALLET']);
