import type { ProviderPlugin } from '../provider-plugin.js';
import { snapDevSign, withSnapLiveExamples } from './snap.live-examples.js';
import { snapProviderKeys, snapSandboxFor, snapSandboxSettings } from './snap.sandbox-config.js';
import {
  prepareSnapSimulation,
  SNAP_USAGE,
  SnapAccountNotFoundError,
  SnapSimulationError,
} from './snap.simulate.js';

/** Simulated per profile and account rather than by status (family B needs a gateway token first). */
export const SNAP_PLUGIN: ProviderPlugin = {
  gateway: async () => (await import('./snap.module.js')).SNAP_GATEWAY,
  sandbox: snapSandboxFor,
  // SNAP accounts the sandbox cannot sign for (no provider private key): say so, not silently.
  sandboxNotes: (config) =>
    snapSandboxSettings(config.providers.snap, snapProviderKeys(config.accounts.file)).skipped.map(
      (reason) => `SNAP account not played: ${reason}`,
    ),
  namedSimulation: {
    command: 'snap',
    displayName: 'SNAP',
    what: 'profile or account',
    usage: SNAP_USAGE,
    prepare: prepareSnapSimulation,
    isUsageError: (error) => error instanceof SnapSimulationError,
    isNotFound: (error) => error instanceof SnapAccountNotFoundError,
    devSignFields: ['account', 'service'],
    devSign: snapDevSign,
  },
  liveExamples: withSnapLiveExamples,
};
