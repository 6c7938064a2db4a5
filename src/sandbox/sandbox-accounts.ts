import {
  type Account,
  currentKey,
  type ProviderAccounts,
  type StatusApiCredentials,
  type UrlTokenAccount,
} from '../config/accounts.js';
import type { GatewayConfig, ProvidersConfig } from '../config/gateway-config.js';
import type { SandboxContext, SandboxProvider } from './sandbox-provider.js';
import type { SandboxProviderFactory } from './sandbox-server.js';

/** The token of the first account's current key: the callback URL the sandbox reports to. */
export function urlToken(settings: ProviderAccounts<UrlTokenAccount> | null): string | null {
  const account = settings?.accounts[0];
  return (account && currentKey(account)?.token) ?? null;
}

/**
 * The first account that has API credentials of `provider`, with them: a sandbox that checks the
 * credentials of one merchant (MCPayment, S88Pay) plays that one.
 */
function accountWithApiCredentials<A extends Account, P extends StatusApiCredentials['provider']>(
  config: GatewayConfig,
  provider: P,
  accounts: readonly A[],
): { account: A; credentials: Extract<StatusApiCredentials, { provider: P }> } | null {
  for (const account of accounts) {
    const credentials = config.accounts.statusApiCredentials(provider, account.id);
    if (credentials?.provider === provider)
      return {
        account,
        credentials: credentials as Extract<StatusApiCredentials, { provider: P }>,
      };
  }
  return null;
}

/**
 * A top-up provider's sandbox, played when its request API is configured; its reports go to the
 * callback URL with the token of the gateway's first account.
 */
export function topupSandboxFor<S>(
  settings: S | null | undefined,
  callbacks: ProviderAccounts<UrlTokenAccount> | null,
  play: (settings: S, callbackToken: string | null) => SandboxProviderFactory,
): SandboxProviderFactory | null {
  return settings ? play(settings, urlToken(callbacks)) : null;
}

/** A sandbox that checks the API credentials of one merchant, played with the first that has them. */
export function apiCredentialSandboxFor<P extends 'mcpayment' | 's88pay'>(
  config: GatewayConfig,
  provider: P,
  play: (
    context: SandboxContext,
    settings: NonNullable<ProvidersConfig[P]>,
    credentials: Extract<StatusApiCredentials, { provider: P }>,
  ) => SandboxProvider,
): SandboxProviderFactory | null {
  const settings = config.providers[provider] as NonNullable<ProvidersConfig[P]> | null;
  const accounts: readonly Account[] = settings?.accounts ?? [];
  const played = accountWithApiCredentials(config, provider, accounts);
  if (!settings || !played) return null;
  return (context) =>
    play(context, { ...settings, accounts: [played.account] }, played.credentials);
}
