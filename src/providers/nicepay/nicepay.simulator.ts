import type { ProvidersConfig } from '../../config/gateway-config.js';
import {
  jakartaParts,
  referenceOrDefault,
  resolveStatus,
  routingKeyOf,
  signingAccount,
  type SimulatedRequest,
  type StatusVocabulary,
  uniqueDigits,
} from '../../sandbox/simulation.js';
import { NICEPAY_STATUS, NICEPAY_TXID_LENGTH } from './nicepay.facts.js';
import { nicepayMerchantToken } from './nicepay.signature.js';
import { NICEPAY_VA_DEPOSIT_SAMPLE } from './nicepay.samples.js';

export type NicepaySettings = NonNullable<ProvidersConfig['nicepay']>;

/** NICEPAY statuses: `0` / `1`, or `succeeded` / `reversed`. */
export const NICEPAY_STATUSES: StatusVocabulary = {
  displayName: 'NICEPAY',
  configuredBy: 'NICEPAY_IMID and NICEPAY_MERCHANT_KEY',
  table: NICEPAY_STATUS,
};

const PAY_METHOD = '02'; // the sample is a virtual-account deposit

/**
 * tXid as NICEPAY builds it: iMid (10) + payMethod (2) + yyyyMMddHHmmss (14) + sequence (4) =
 * 30 letters or digits. An iMid of another length still gives exactly 30 characters.
 */
function transactionId(iMid: string, stamp: string): string {
  const base = `${iMid.replace(/[^A-Za-z0-9]/g, '')}${PAY_METHOD}${stamp}`;
  const room = NICEPAY_TXID_LENGTH - 4;
  return base.length >= room
    ? base.slice(0, room) + uniqueDigits(4)
    : base + uniqueDigits(NICEPAY_TXID_LENGTH - base.length);
}

/**
 * A NICEPAY VA notification (the shape of NICEPAY_VA_DEPOSIT_SAMPLE) for the first account's
 * iMid and current key, with a fresh tXid and a merchantToken from the gateway's own nicepayMerchantToken.
 */
export function simulateNicepayCallback(
  settings: NicepaySettings,
  status: string,
  reference?: string,
): SimulatedRequest {
  const resolved = resolveStatus(NICEPAY_STATUSES, status);
  const { account: merchant, key } = signingAccount(settings, 'NICEPAY');
  const referenceNo = referenceOrDefault(reference);
  const now = jakartaParts();
  const tXid = transactionId(merchant.iMid, `${now.date}${now.time}`);
  const fields: Record<string, string> = {
    ...NICEPAY_VA_DEPOSIT_SAMPLE,
    tXid,
    referenceNo,
    payMethod: PAY_METHOD,
    transDt: now.date,
    transTm: now.time,
    depositDt: now.date,
    depositTm: now.time,
    vacctNo: `898500${uniqueDigits(10)}`,
    vacctValidDt: now.date,
    vacctValidTm: '235959',
    goodsNm: `Order ${referenceNo}`,
    status: resolved.providerStatus,
  };
  fields.merchantToken = nicepayMerchantToken(merchant.iMid, tXid, fields.amt, key!.merchantKey);
  return {
    provider: 'nicepay',
    method: 'POST',
    path: '/callbacks/nicepay',
    displayPath: '/callbacks/nicepay',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Jakarta Commons-HttpClient/3.1',
    },
    body: new URLSearchParams(fields).toString(),
    providerStatus: resolved.providerStatus,
    status: resolved.status,
    routingKey: routingKeyOf('payment', resolved.status, 'nicepay'),
    reference: referenceNo,
  };
}
