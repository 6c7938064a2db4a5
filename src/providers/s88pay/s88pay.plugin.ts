import { simulator } from '../../sandbox/provider-simulator.js';
import type { ProviderPlugin } from '../provider-plugin.js';
import { s88paySandboxFor } from './s88pay.sandbox.js';
import { S88PAY_STATUSES, simulateS88payCallback } from './s88pay.simulator.js';

export const S88PAY_PLUGIN: ProviderPlugin = {
  gateway: async () => (await import('./s88pay.module.js')).S88PAY_GATEWAY,
  simulator: simulator('s88pay', S88PAY_STATUSES, simulateS88payCallback),
  sandbox: s88paySandboxFor,
};
