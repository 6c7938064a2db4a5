import type { ProvidersConfig } from '../../config/gateway-config.js';
import {
  referenceOrDefault,
  resolveStatus,
  routingKeyOf,
  signingAccount,
  type SimulatedRequest,
  type StatusVocabulary,
  uniqueDigits,
  urlTokenPaths,
} from '../../sandbox/simulation.js';
import { PPOB_STATUS } from './ppob.facts.js';
import { PPOB_SUCCESS_SAMPLE } from './ppob.samples.js';

export type PpobSettings = NonNullable<ProvidersConfig['ppob']>;

/** PPOB statuses as the server writes them (Pending / Waiting / Success / Failed, any case), or normalized. */
export const PPOB_STATUSES: StatusVocabulary = {
  displayName: 'PPOB',
  configuredBy: 'PPOB_CALLBACK_TOKEN and/or PPOB_ALLOWED_IPS',
  table: Object.fromEntries(
    Object.entries(PPOB_STATUS).map(([value, status]) => [
      value.charAt(0).toUpperCase() + value.slice(1),
      status,
    ]),
  ),
  fold: (value) => value.toLowerCase(),
};

/**
 * A PPOB server report (GET, the query fields of PPOB_SUCCESS_SAMPLE) with the reference as
 * ref_id, a serial number only on Success, on the report URL with the configured token (when one
 * is configured).
 */
export function simulatePpobCallback(
  settings: PpobSettings,
  status: string,
  reference?: string,
): SimulatedRequest {
  const resolved = resolveStatus(PPOB_STATUSES, status);
  const refId = referenceOrDefault(reference);
  const query: Record<string, string> = {
    ...PPOB_SUCCESS_SAMPLE,
    ref_id: refId,
    status: resolved.providerStatus,
    sn: resolved.status === 'succeeded' ? uniqueDigits(16) : '',
  };
  return {
    provider: 'ppob',
    method: 'GET',
    ...urlTokenPaths('ppob', signingAccount(settings, 'PPOB', false).key?.token ?? null, query),
    headers: {},
    providerStatus: resolved.providerStatus,
    status: resolved.status,
    routingKey: routingKeyOf('topup', resolved.status, 'ppob'),
    reference: refId,
  };
}
