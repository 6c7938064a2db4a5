import { simulator } from '../../sandbox/provider-simulator.js';
import type { ProviderPlugin } from '../provider-plugin.js';
import { ppobSandboxFor } from './ppob.sandbox.js';
import { PPOB_STATUSES, simulatePpobCallback } from './ppob.simulator.js';

export const PPOB_PLUGIN: ProviderPlugin = {
  gateway: async () => (await import('./ppob.module.js')).PPOB_GATEWAY,
  simulator: simulator('ppob', PPOB_STATUSES, simulatePpobCallback),
  sandbox: ppobSandboxFor,
};
