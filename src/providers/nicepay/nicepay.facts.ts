import type { EventStatus } from '../../events/normalized-transaction.js';

// Source: PROVIDERS.md (NICEPAY section), from NICEPAY's "Notification - API Checkout" page.

// The published notification sources are config's default allowlist (NICEPAY_PUBLISHED_ADDRESSES).

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

// Status Inquiry (API v2), from NICEPAY's "Check Status" page and its official client libraries.

/** `POST {NICEPAY_API_URL}` + this path, JSON. */
export const NICEPAY_INQUIRY_PATH = '/nicepay/direct/v2/inquiry';

/** `resultCd` of the inquiry itself (not of the transaction). */
export const NICEPAY_INQUIRY_OK = '0000';
/** Our configuration is wrong: 9010 invalid merchantToken, 9011 invalid iMid. */
export const NICEPAY_INQUIRY_CONFIGURATION_ERRORS: Record<string, string> = {
  '9010': 'invalid merchantToken',
  '9011': 'invalid iMid',
};
/**
 * Trouble on NICEPAY's side, from its v2 "Error Code" page: 1001 connection, 1002 socket, 1003
 * server, 1004 timeout error, 9002 "Server is busy, kindly try again in few minutes", 9507 HTTP
 * timeout exception. Ask again later.
 */
export const NICEPAY_INQUIRY_RETRY_CODES = new Set([
  '1001',
  '1002',
  '1003',
  '1004',
  '9002',
  '9507',
]);
/**
 * What the sandbox answers for a transaction it does not hold (tXid, referenceNo and amt must all
 * match). NICEPAY's error table is not in our documents: the gateway treats every other code than
 * the ones above as "NICEPAY does not confirm this transaction".
 */
export const NICEPAY_INQUIRY_NOT_FOUND = { resultCd: '9999', resultMsg: 'Transaction not found' };

/** Inquiry `status` per `payMethod`: the same digit means different things per method. */
const CARD: Record<string, EventStatus> = {
  '0': 'succeeded',
  '1': 'cancelled', // void
  '2': 'refunded',
  '8': 'failed',
  '9': 'pending', // init
};
const VIRTUAL_ACCOUNT: Record<string, EventStatus> = {
  '0': 'succeeded', // paid
  '1': 'reversed',
  '3': 'pending', // unpaid
  '4': 'expired',
};
const CONVENIENCE_STORE: Record<string, EventStatus> = {
  '0': 'succeeded',
  '3': 'pending', // unpaid
  '4': 'expired',
  '5': 'pending', // ready to commit
};
const EWALLET: Record<string, EventStatus> = {
  '0': 'succeeded',
  '1': 'cancelled', // void
  '2': 'refunded',
  '3': 'pending', // unpaid
  '4': 'pending', // processing
  '5': 'expired',
  '8': 'failed',
  '9': 'pending', // initiated
};
const QRIS: Record<string, EventStatus> = {
  '0': 'succeeded',
  '2': 'refunded',
  '3': 'pending', // unpaid
  '4': 'pending', // processing
  '5': 'expired',
  '6': 'failed',
};
const PAYLOAN: Record<string, EventStatus> = {
  '0': 'succeeded',
  '1': 'cancelled', // void
  '2': 'refunded',
  '3': 'pending', // unpaid
  '8': 'failed',
  '9': 'pending', // init
};
export const NICEPAY_INQUIRY_STATUS: Record<string, Record<string, EventStatus>> = {
  '01': CARD,
  '02': VIRTUAL_ACCOUNT,
  '03': CONVENIENCE_STORE,
  '05': EWALLET,
  '06': PAYLOAN,
  '08': QRIS,
  '09': CARD, // GPN is a card scheme
};

/**
 * The normalized status of an inquiry answer. An unknown method or code is `pending` with a
 * warning: a status nobody documented never counts as money moved.
 */
export function nicepayInquiryStatus(
  payMethod: string,
  status: string,
): { status: EventStatus; warning: string | null } {
  const table = NICEPAY_INQUIRY_STATUS[payMethod];
  if (!table) {
    return {
      status: 'pending',
      warning: `NICEPAY payMethod ${JSON.stringify(payMethod)} has no documented inquiry status table; status ${JSON.stringify(status)} taken as pending`,
    };
  }
  if (!Object.hasOwn(table, status)) {
    return {
      status: 'pending',
      warning: `NICEPAY inquiry status ${JSON.stringify(status)} is not documented for payMethod ${payMethod}; taken as pending`,
    };
  }
  return { status: table[status], warning: null };
}
