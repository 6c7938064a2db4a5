import type { ProviderName } from '../config/accounts.js';
import type { ProvidersConfig } from '../config/gateway-config.js';
import { acceptedStatuses, type SimulatedRequest, type StatusVocabulary } from './simulation.js';

/** One provider's simulator, driven by the whole providers configuration. */
export interface ProviderSimulator {
  provider: ProviderName;
  displayName: string;
  /** The settings that turn the provider on, for messages: `NICEPAY_IMID and NICEPAY_MERCHANT_KEY`. */
  configuredBy: string;
  /** Every status accepted: the provider's own values, then normalized names. */
  statuses: string[];
  /** Whether the gateway configuration enables this provider (else its endpoints answer 404). */
  configured(providers: ProvidersConfig): boolean;
  /** Throws UnknownStatusError (message lists the accepted statuses) or ProviderNotConfiguredError. */
  simulate(providers: ProvidersConfig, status: string, reference?: string): SimulatedRequest;
}

export class ProviderNotConfiguredError extends Error {
  constructor(readonly provider: string) {
    super(`Provider ${provider} is not configured on this gateway`);
  }
}

/** A ProviderSimulator from the provider's status vocabulary and its signing function. */
export function simulator<K extends ProviderName>(
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
    configuredBy: vocabulary.configuredBy,
    statuses: acceptedStatuses(vocabulary),
    configured,
    simulate(providers, status, reference) {
      if (!configured(providers)) throw new ProviderNotConfiguredError(provider);
      return build(providers[provider] as NonNullable<ProvidersConfig[K]>, status, reference);
    },
  };
}
