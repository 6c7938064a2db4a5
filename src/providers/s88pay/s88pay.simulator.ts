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
import { encryptS88payKey } from './s88pay.crypto.js';
import { S88PAY_STATUS } from './s88pay.facts.js';
import { S88PAY_DEPOSIT_PLAINTEXT } from './s88pay.samples.js';

export type S88paySettings = NonNullable<ProvidersConfig['s88pay']>;

/** S88Pay statuses: 1–4, pending / completed / success / failed, or a normalized name. */
export const S88PAY_STATUSES: StatusVocabulary = {
  displayName: 'S88Pay',
  configuredBy: 'S88PAY_API_KEY and S88PAY_SECRET_KEY',
  table: S88PAY_STATUS,
  fold: (value) => value.toLowerCase(),
};

/**
 * An S88Pay deposit callback: the payload of S88PAY_DEPOSIT_PLAINTEXT with a fresh
 * transaction_no, the reference as transaction_code and the status (an integer for 1–4, as
 * documented; the string otherwise), encrypted with the gateway's encryptS88payKey and sent as
 * `{ key, transaction_code, transaction_no }`.
 */
export function simulateS88payCallback(
  settings: S88paySettings,
  status: string,
  reference?: string,
): SimulatedRequest {
  const resolved = resolveStatus(S88PAY_STATUSES, status);
  const { account, key } = signingAccount(settings, 'S88Pay');
  const credentials = key!;
  const transactionCode = referenceOrDefault(reference);
  const transactionNo = `DP-${jakartaParts().date}-${uniqueDigits(8)}`;
  const payload: Record<string, unknown> = {
    ...(JSON.parse(S88PAY_DEPOSIT_PLAINTEXT) as Record<string, unknown>),
    transaction_no: transactionNo,
    transaction_code: transactionCode,
    transaction_status: /^\d+$/.test(resolved.providerStatus)
      ? Number(resolved.providerStatus)
      : resolved.providerStatus,
    // S88Pay puts the merchant's api_key inside the encrypted payload; the gateway drops it.
    merchant_api_key: credentials.apiKey,
    ...(account.merchantCode === null ? {} : { merchant_code: account.merchantCode }),
    transaction_timestamp: Math.floor(Date.now() / 1000),
  };
  const body = {
    key: encryptS88payKey(JSON.stringify(payload), credentials),
    transaction_code: transactionCode,
    transaction_no: transactionNo,
  };
  return {
    provider: 's88pay',
    method: 'POST',
    path: '/callbacks/s88pay',
    displayPath: '/callbacks/s88pay',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    providerStatus: resolved.providerStatus,
    status: resolved.status,
    routingKey: routingKeyOf('payment', resolved.status, 's88pay'),
    reference: transactionCode,
  };
}
