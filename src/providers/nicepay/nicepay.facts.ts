import type { EventStatus } from '../../events/normalized-transaction.js';

// Source: PROVIDERS.md (NICEPAY section), from NICEPAY's "Notification - API Checkout" page.

/** Published notification sources: production .33/.34, development .39/.40. */
export const NICEPAY_PUBLISHED_ADDRESSES = [
  '103.20.51.33',
  '103.20.51.34',
  '103.20.51.39',
  '103.20.51.40',
];

/** `status`: 0 deposit, 1 reversal. */
export const NICEPAY_STATUS: Record<string, EventStatus> = { '0': 'succeeded', '1': 'reversed' };

/** `payMethod` codes (09 GPN is "not always reliable" per NICEPAY; it is a card scheme). */
export const NICEPAY_PAY_METHOD: Record<string, string> = {
  '01': 'card',
  '02': 'virtual_account',
  '03': 'convenience_store',
  '04': 'clickpay',
  '05': 'ewallet',
  '06': 'paylater',
  '08': 'qris',
  '09': 'card',
};

/** NICEPAY only reads the HTTP status; 200 means received. The body is ours to choose. */
export const NICEPAY_ACK = {
  status: 200,
  contentType: 'application/json',
  body: '{"resultCd":"200","resultMsg":"success"}',
};

/** Notification times (transDt/transTm, depositDt/depositTm) are Jakarta time. */
export const NICEPAY_TIME_OFFSET = '+07:00';

/** tXid length ("tXid N 30" in the notification table; every tXid seen is exactly 30). */
export const NICEPAY_TXID_LENGTH = 30;

/** Largest accepted body. A notification is a flat form of ~40 short fields (under 2 KB seen): 16 KB leaves ample room. */
export const NICEPAY_BODY_LIMIT = '16kb';
