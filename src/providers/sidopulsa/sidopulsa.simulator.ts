import type { ProvidersConfig } from '../../config/gateway-config.js';
import {
  referenceOrDefault,
  resolveStatus,
  routingKeyOf,
  signingAccount,
  type SimulatedRequest,
  type StatusVocabulary,
  uniqueDigits,
  uniqueHex,
  urlTokenPaths,
} from '../../sandbox/simulation.js';
import { SIDOPULSA_STATUS } from './sidopulsa.facts.js';
import { SIDOPULSA_FAILED_SAMPLE, SIDOPULSA_SUCCESS_SAMPLE } from './sidopulsa.samples.js';

export type SidopulsaSettings = NonNullable<ProvidersConfig['sidopulsa']>;

/** Sidopulsa statuses: statuscode `1` / `2`, or `succeeded` / `failed`. */
export const SIDOPULSA_STATUSES: StatusVocabulary = {
  displayName: 'Sidopulsa',
  configuredBy: 'SIDOPULSA_CALLBACK_TOKEN and/or SIDOPULSA_ALLOWED_IPS',
  table: SIDOPULSA_STATUS,
};

/**
 * A Sidopulsa report (GET, query fields of SIDOPULSA_SUCCESS_SAMPLE / SIDOPULSA_FAILED_SAMPLE)
 * with a fresh serverid and the reference as clientid, on the callback URL with the configured
 * token (when one is configured).
 */
export function simulateSidopulsaCallback(
  settings: SidopulsaSettings,
  status: string,
  reference?: string,
): SimulatedRequest {
  const resolved = resolveStatus(SIDOPULSA_STATUSES, status);
  const clientid = referenceOrDefault(reference);
  const succeeded = resolved.status === 'succeeded';
  const sample = succeeded ? SIDOPULSA_SUCCESS_SAMPLE : SIDOPULSA_FAILED_SAMPLE;
  const { kp, msisdn, price } = sample;
  const sn = succeeded ? `OPTR${uniqueHex(9)}` : sample.sn;
  const query: Record<string, string> = {
    serverid: uniqueDigits(8),
    price,
    clientid,
    statuscode: resolved.providerStatus,
    kp,
    msisdn,
    sn,
    message: succeeded
      ? `TRX ${kp}.${msisdn} BERHASIL, HRG:${price} SN: ${sn}. SISA SALDO:5550 CLIENTID=${clientid}.`
      : `TRX ${kp}.${msisdn} GAGAL, ${sn}. SISA SALDO:5550 CLIENTID=${clientid}.`,
  };
  return {
    provider: 'sidopulsa',
    method: 'GET',
    ...urlTokenPaths(
      'sidopulsa',
      signingAccount(settings, 'Sidopulsa', false).key?.token ?? null,
      query,
    ),
    headers: {},
    providerStatus: resolved.providerStatus,
    status: resolved.status,
    routingKey: routingKeyOf('topup', resolved.status, 'sidopulsa'),
    reference: clientid,
  };
}
