import { createHash } from 'node:crypto';
import { NICEPAY } from './credentials.js';

/** NICEPAY's algorithm, written independently of the gateway: SHA-256(iMid + tXid + amt + merchantKey). */
export function nicepayToken(iMid: string, tXid: string, amt: string, merchantKey: string): string {
  return createHash('sha256')
    .update(iMid + tXid + amt + merchantKey)
    .digest('hex');
}

let sequence = 0;

/** A real-shaped VA deposit notification for the first test iMid, signed. */
export function nicepayNotification(
  overrides: Record<string, string> = {},
  merchant = NICEPAY.merchants[0],
) {
  sequence += 1;
  const stamp = `${Date.now()}`.slice(-8) + String(sequence).padStart(8, '0');
  const fields: Record<string, string> = {
    tXid: `${merchant.iMid}0201${stamp}`, // 10 + 4 + 16 = 30 characters, as NICEPAY's are
    referenceNo: `ORD-${stamp}`,
    payMethod: '02',
    amt: '150000',
    currency: 'IDR',
    transDt: '20251121',
    transTm: '120000',
    depositDt: '20251121',
    depositTm: '120512',
    bankCd: 'BMRI',
    vacctNo: '8985001234567890',
    goodsNm: 'Order test',
    billingNm: 'Budi Santoso',
    matchCl: '1',
    status: '0',
    ...overrides,
  };
  if (!('merchantToken' in overrides)) {
    fields.merchantToken = nicepayToken(
      merchant.iMid,
      fields.tXid,
      fields.amt,
      merchant.merchantKey,
    );
  }
  return fields;
}

export function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Jakarta Commons-HttpClient/3.1',
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
}
