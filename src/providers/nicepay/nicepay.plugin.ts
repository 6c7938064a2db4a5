import { simulator } from '../../sandbox/provider-simulator.js';
import type { ProviderPlugin } from '../provider-plugin.js';
import { nicepaySandboxFor } from './nicepay.sandbox.js';
import { NICEPAY_STATUSES, simulateNicepayCallback } from './nicepay.simulator.js';

export const NICEPAY_PLUGIN: ProviderPlugin = {
  gateway: async () => (await import('./nicepay.module.js')).NICEPAY_GATEWAY,
  simulator: simulator('nicepay', NICEPAY_STATUSES, simulateNicepayCallback),
  sandbox: nicepaySandboxFor,
};
