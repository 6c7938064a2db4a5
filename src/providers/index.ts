import { registerAccountSection } from '../config/account-sections.js';
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

/**
 * Gives configuration the account sections the plugins declare. Run when this list is loaded, so
 * before any configuration is (everything that starts the gateway or a tool imports it).
 */
export function registerProviderAccounts(plugins: readonly ProviderPlugin[]): void {
  for (const plugin of plugins) if (plugin.accounts) registerAccountSection(plugin.accounts);
}
registerProviderAccounts(PROVIDERS);

/** Every provider's gateway side (Nest module, order client), in PROVIDERS order. */
export function loadProviderGateways(): Promise<ProviderGateway[]> {
  return Promise.all(PROVIDERS.map((provider) => provider.gateway()));
}
