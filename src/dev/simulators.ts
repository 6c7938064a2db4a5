import type { ProvidersConfig } from '../config/gateway-config.js';
import {
  MCPAYMENT_STATUSES,
  simulateMcpaymentCallback,
} from '../providers/mcpayment/mcpayment.simulator.js';
import {
  NICEPAY_STATUSES,
  simulateNicepayCallback,
} from '../providers/nicepay/nicepay.simulator.js';
import { PPOB_STATUSES, simulatePpobCallback } from '../providers/ppob/ppob.simulator.js';
import { S88PAY_STATUSES, simulateS88payCallback } from '../providers/s88pay/s88pay.simulator.js';
import {
  SIDOPULSA_STATUSES,
  simulateSidopulsaCallback,
} from '../providers/sidopulsa/sidopulsa.simulator.js';
import {
  acceptedStatuses,
  type SimulatedRequest,
  type StatusVocabulary,
} from '../sandbox/simulation.js';

/**
 * Providers simulated by status alone. SNAP is simulated per profile and account (family B needs
 * a token from the gateway first): `simulate -- snap <profile>`, src/dev/snap-simulate.ts.
 */
export type SimulatedProvider = Exclude<keyof ProvidersConfig, 'snap'>;

/** One provider's simulator, driven by the whole providers configuration. */
export interface ProviderSimulator {
  provider: SimulatedProvider;
  displayName: string;
  /** Every status accepted: the provider's own values, then normalized names. */
  statuses: string[];
  /** Whether the gateway configuration enables this provider (else its endpoints answer 404). */
  configured(providers: ProvidersConfig): boolean;
  /** Throws UnknownStatusError (message lists the accepted statuses) or ProviderNotConfiguredError. */
  simulate(providers: ProvidersConfig, status: string, reference?: string): SimulatedRequest;
}

function simulator<K extends SimulatedProvider>(
  provider: K,
  vocabulary: StatusVocabulary,
  build: (
    settings: NonNullable<ProvidersConfig[K]>,
    status: string,
    reference?: string,
  ) => SimulatedRequest,
  enabled: (settings: NonNullable<ProvidersConfig[K]>) => boolean = () => true,
): ProviderSimulator {
  const configured = (providers: ProvidersConfig) => {
    const settings = providers[provider];
    return settings !== null && enabled(settings as NonNullable<ProvidersConfig[K]>);
  };
  return {
    provider,
    displayName: vocabulary.displayName,
    statuses: acceptedStatuses(vocabulary),
    configured,
    simulate(providers, status, reference) {
      if (!configured(providers)) throw new ProviderNotConfiguredError(provider);
      return build(providers[provider] as NonNullable<ProvidersConfig[K]>, status, reference);
    },
  };
}

/** Provider name → simulator (developer tooling; the ingest pipeline never names providers). */
export const SIMULATORS: Readonly<Record<SimulatedProvider, ProviderSimulator>> = {
  nicepay: simulator('nicepay', NICEPAY_STATUSES, simulateNicepayCallback),
  mcpayment: simulator('mcpayment', MCPAYMENT_STATUSES, simulateMcpaymentCallback),
  s88pay: simulator('s88pay', S88PAY_STATUSES, simulateS88payCallback),
  sidopulsa: simulator('sidopulsa', SIDOPULSA_STATUSES, simulateSidopulsaCallback),
  ppob: simulator('ppob', PPOB_STATUSES, simulatePpobCallback),
};

export const SIMULATED_PROVIDERS = Object.keys(SIMULATORS) as SimulatedProvider[];

export class UnknownProviderError extends Error {
  constructor(readonly provider: string) {
    super(
      `Unknown provider ${JSON.stringify(provider)}: expected one of ${SIMULATED_PROVIDERS.join(', ')}`,
    );
  }
}

export class ProviderNotConfiguredError extends Error {
  constructor(readonly provider: string) {
    super(`Provider ${provider} is not configured on this gateway`);
  }
}

/** The simulator of `name`; throws UnknownProviderError for a name that is not a provider. */
export function simulatorFor(name: string): ProviderSimulator {
  if (!Object.hasOwn(SIMULATORS, name)) throw new UnknownProviderError(name);
  return SIMULATORS[name as SimulatedProvider];
}
