import { randomBytes } from 'node:crypto';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { PPOB, SIDOPULSA } from './credentials.js';
import { mcpaymentCallback, mcpaymentSignature } from './mcpayment.js';
import { nicepayNotification } from './nicepay.js';
import { s88payCallback, s88payPayload } from './s88pay.js';

export const PROVIDERS = ['nicepay', 'mcpayment', 's88pay', 'sidopulsa', 'ppob'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** One genuine, signed callback ready to send, and the id of the event it must become. */
export interface SignedCallback {
  provider: Provider;
  method: 'GET' | 'POST';
  /** Path and query, e.g. `/callbacks/ppob/<token>?ref_id=…`. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The merchant reference (the event's subject). */
  reference: string;
  eventId: string;
  /** Values that must never appear in logs: secrets and personal data this callback carries. */
  sensitive: string[];
}

function unique(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`.toUpperCase();
}

/** A genuine succeeded-state callback of `provider`, unique per call, signed with the test credentials. */
export function signedCallback(provider: Provider): SignedCallback {
  const id = unique();
  switch (provider) {
    case 'nicepay': {
      const fields = nicepayNotification({
        referenceNo: `ORD-${id}`,
        cardNo: '512345******0008',
        billingNm: 'Budi Santoso',
      });
      return {
        provider,
        method: 'POST',
        path: '/callbacks/nicepay',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        reference: fields.referenceNo,
        eventId: eventIdFor('nicepay', 'IONPAYTEST', fields.tXid, 'succeeded'),
        sensitive: [fields.merchantToken, 'Budi Santoso', '512345******0008'],
      };
    }
    case 'mcpayment': {
      const body = mcpaymentCallback({
        order_id: `ORD-${id}`,
        customer_details: {
          email: 'siti.rahma@example.co.id',
          full_name: 'Siti Rahma',
          phone: '081234567890',
        },
      });
      const signature = mcpaymentSignature(body);
      return {
        provider,
        method: 'POST',
        path: '/callbacks/mcpayment',
        headers: { 'content-type': 'application/json', 'mcp-signature': signature },
        body: JSON.stringify(body),
        reference: body.order_id,
        eventId: eventIdFor('mcpayment', 'default', body.transaction_id, 'succeeded'),
        sensitive: [signature, 'siti.rahma@example.co.id', 'Siti Rahma', '081234567890'],
      };
    }
    case 's88pay': {
      const payload = s88payPayload({ transaction_code: `ORD-${id}`, transaction_no: `DP-${id}` });
      const body = s88payCallback(payload);
      return {
        provider,
        method: 'POST',
        path: '/callbacks/s88pay',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        reference: String(payload.transaction_code),
        eventId: eventIdFor(
          's88pay',
          String(payload.merchant_code),
          String(payload.transaction_no),
          'succeeded',
        ),
        sensitive: [String(body.key), decodeURIComponent(String(body.key))],
      };
    }
    case 'sidopulsa': {
      const query = new URLSearchParams({
        serverid: `S${id}`,
        clientid: `C-${id}`,
        price: '9000',
        statuscode: '1',
        kp: 'TT5',
        msisdn: '081299999999',
        sn: 'OPTR9039938DS',
        message: `TRX TT5.081299999999 BERHASIL, HRG:9000 SN: OPTR9039938DS. CLIENTID=C-${id}.`,
      });
      return {
        provider,
        method: 'GET',
        path: `/callbacks/sidopulsa/${SIDOPULSA.token}?${query}`,
        headers: {},
        reference: `C-${id}`,
        eventId: eventIdFor('sidopulsa', 'default', `C-${id}`, 'succeeded'),
        sensitive: [SIDOPULSA.token, '081299999999'],
      };
    }
    case 'ppob': {
      const query = new URLSearchParams({
        ref_id: `R-${id}`,
        status: 'Success',
        sn: '1234-5678-9012',
        code: 'PLN20',
        destination: '085712345678',
      });
      return {
        provider,
        method: 'GET',
        path: `/callbacks/ppob/${PPOB.token}?${query}`,
        headers: {},
        reference: `R-${id}`,
        eventId: eventIdFor('ppob', 'default', `R-${id}`, 'succeeded'),
        sensitive: [PPOB.token, '085712345678'],
      };
    }
  }
}

/** Sends a signed callback to a gateway at `baseUrl`. */
export function send(
  baseUrl: string,
  callback: SignedCallback,
  extraHeaders: Record<string, string> = {},
) {
  return fetch(`${baseUrl}${callback.path}`, {
    method: callback.method,
    headers: { ...callback.headers, ...extraHeaders },
    body: callback.body,
  });
}
