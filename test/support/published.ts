import { maskNumber, maskPersonalData } from '../../src/common/personal-data.js';

/**
 * What a published event's `data.raw` holds for the provider fields `fields` under the default
 * personal-data policy (EVENTS_PERSONAL_DATA=mask): personal data masked, the transaction's ids
 * kept (src/events/published-payload.ts). The stored callback keeps `fields` whole.
 */
export function publishedRaw(
  fields: Record<string, unknown>,
  data: { providerTransactionId?: unknown; merchantReference?: unknown },
): Record<string, unknown> {
  const keep = [data.providerTransactionId, data.merchantReference].filter(
    (value): value is string => typeof value === 'string',
  );
  return maskPersonalData(fields, new Set(keep));
}

/** A top-up's customer number as published by default: `0812****214`. */
export const publishedDestination = maskNumber;
