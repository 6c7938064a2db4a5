import type { ProviderPlugin } from '../provider-plugin.js';
import { snapSandboxFor } from './snap.sandbox-config.js';

/** Simulated per profile and account rather than by status: src/dev/snap-simulate.ts. */
export const SNAP_PLUGIN: ProviderPlugin = {
  gateway: async () => (await import('./snap.module.js')).SNAP_GATEWAY,
  sandbox: snapSandboxFor,
};
