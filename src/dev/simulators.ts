import type { ProviderName } from '../config/accounts.js';
import { PROVIDERS } from '../providers/index.js';
import type { ProviderSimulator } from '../sandbox/provider-simulator.js';

export {
  ProviderNotConfiguredError,
  type ProviderSimulator,
} from '../sandbox/provider-simulator.js';

/**
 * Providers simulated by status alone. SNAP is simulated per profile and account (family B needs
 * a token from the gateway first): `simulate -- snap <profile>`, src/providers/snap/snap.simulate.ts.
 */
export type SimulatedProvider = Exclude<ProviderName, 'snap'>;

/** Provider name → simulator (developer tooling; the ingest pipeline never names providers). */
export const SIMULATORS: Readonly<Record<SimulatedProvider, ProviderSimulator>> =
  Object.fromEntries(
    PROVIDERS.flatMap(({ simulator }) => (simulator ? [[simulator.provider, simulator]] : [])),
  ) as Record<SimulatedProvider, ProviderSimulator>;

export const SIMULATED_PROVIDERS = Object.keys(SIMULATORS) as SimulatedProvider[];

export class UnknownProviderError extends Error {
  constructor(readonly provider: string) {
    super(
      `Unknown provider ${JSON.stringify(provider)}: expected one of ${SIMULATED_PROVIDERS.join(', ')}`,
    );
  }
}

/** The simulator of `name`; throws UnknownProviderError for a name that is not a provider. */
export function simulatorFor(name: string): ProviderSimulator {
  if (!Object.hasOwn(SIMULATORS, name)) throw new UnknownProviderError(name);
  return SIMULATORS[name as SimulatedProvider];
}
