import { MCPAYMENT_PLUGIN } from './mcpayment/mcpayment.plugin.js';
import { NICEPAY_PLUGIN } from './nicepay/nicepay.plugin.js';
import { PPOB_PLUGIN } from './ppob/ppob.plugin.js';
import type { ProviderGateway, ProviderPlugin } from './provider-plugin.js';
import { S88PAY_PLUGIN } from './s88pay/s88pay.plugin.js';
import { SIDOPULSA_PLUGIN } from './sidopulsa/sidopulsa.plugin.js';
import { SNAP_PLUGIN } from './snap/snap.plugin.js';

/**
 * Every provider, the one list that names them (docs/architecture.md#adding-a-provider). Adding
 * one: write src/providers/<name>/ with its <name>.plugin.ts and add it here.
 */
export const PROVIDERS: readonly ProviderPlugin[] = [
  NICEPAY_PLUGIN,
  MCPAYMENT_PLUGIN,
  S88PAY_PLUGIN,
  SIDOPULSA_PLUGIN,
  PPOB_PLUGIN,
  SNAP_PLUGIN,
];

/** Every provider's gateway side (Nest module, order client), in PROVIDERS order. */
export function loadProviderGateways(): Promise<ProviderGateway[]> {
  return Promise.all(PROVIDERS.map((provider) => provider.gateway()));
}
