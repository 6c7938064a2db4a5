import { simulator } from '../../sandbox/provider-simulator.js';
import type { ProviderPlugin } from '../provider-plugin.js';
import { mcpaymentSandboxFor } from './mcpayment.sandbox.js';
import { MCPAYMENT_STATUSES, simulateMcpaymentCallback } from './mcpayment.simulator.js';

export const MCPAYMENT_PLUGIN: ProviderPlugin = {
  gateway: async () => (await import('./mcpayment.module.js')).MCPAYMENT_GATEWAY,
  simulator: simulator('mcpayment', MCPAYMENT_STATUSES, simulateMcpaymentCallback),
  sandbox: mcpaymentSandboxFor,
};
