import { simulator } from '../../sandbox/provider-simulator.js';
import type { ProviderPlugin } from '../provider-plugin.js';
import { sidopulsaSandboxFor } from './sidopulsa.sandbox.js';
import { SIDOPULSA_STATUSES, simulateSidopulsaCallback } from './sidopulsa.simulator.js';

export const SIDOPULSA_PLUGIN: ProviderPlugin = {
  gateway: async () => (await import('./sidopulsa.module.js')).SIDOPULSA_GATEWAY,
  simulator: simulator('sidopulsa', SIDOPULSA_STATUSES, simulateSidopulsaCallback),
  sandbox: sidopulsaSandboxFor,
};
