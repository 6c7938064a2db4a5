import {
  type Account,
  currentKey,
  type ProviderAccounts,
  type StatusApiCredentials,
  type UrlTokenAccount,
} from '../config/accounts.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { McpaymentSandbox } from '../providers/mcpayment/mcpayment.sandbox.js';
import { NicepaySandbox } from '../providers/nicepay/nicepay.sandbox.js';
import { S88paySandbox } from '../providers/s88pay/s88pay.sandbox.js';
import { SnapSandbox } from '../providers/snap/snap.sandbox.js';
import { snapProviderKeys, snapSandboxSettings } from '../providers/snap/snap.sandbox-config.js';
import { ppobSandbox } from '../providers/ppob/ppob.sandbox.js';
import type { SandboxProviderFactory } from '../sandbox/sandbox-server.js';
import { sidopulsaSandbox } from '../providers/sidopulsa/sidopulsa.sandbox.js';

export {
  startSandbox,
  type RunningSandbox,
  type SandboxProviderFactory,
} from '../sandbox/sandbox-server.js';

/**
 * Every provider the sandbox plays, with the credentials of the gateway configuration (the same
 * .env): a provider is played when the gateway has what the provider would check. Adding one:
 * write src/providers/<name>/<name>.sandbox.ts and list it here.
 */
/** The token of the first account's current key: the callback URL the sandbox reports to. */
function urlToken(settings: ProviderAccounts<UrlTokenAccount> | null): string | null {
  const account = settings?.accounts[0];
  return (account && currentKey(account)?.token) ?? null;
}

export function sandboxProviders(config: GatewayConfig): SandboxProviderFactory[] {
  const { nicepay, mcpayment, s88pay } = config.providers;
  const { ppob, sidopulsa } = config.topups;
  // MCPayment and S88Pay check API credentials of one merchant: the first account that has them.
  const played = <A extends Account, P extends StatusApiCredentials['provider']>(
    provider: P,
    accounts: readonly A[],
  ) => {
    for (const account of accounts) {
      const credentials = config.accounts.statusApiCredentials(provider, account.id);
      if (credentials?.provider === provider)
        return {
          account,
          credentials: credentials as Extract<StatusApiCredentials, { provider: P }>,
        };
    }
    return null;
  };
  const mcpaymentAccount = mcpayment && played('mcpayment', mcpayment.accounts);
  const s88payAccount = s88pay && played('s88pay', s88pay.accounts);
  const snap = snapSandboxSettings(config.providers.snap, snapProviderKeys(config.accounts.file));
  const factories: Array<SandboxProviderFactory | null> = [
    nicepay ? (context) => new NicepaySandbox(context, nicepay) : null,
    mcpayment && mcpaymentAccount
      ? (context) =>
          new McpaymentSandbox(
            context,
            { ...mcpayment, accounts: [mcpaymentAccount.account] },
            mcpaymentAccount.credentials,
          )
      : null,
    s88pay && s88payAccount
      ? (context) =>
          new S88paySandbox(
            context,
            { ...s88pay, accounts: [s88payAccount.account] },
            s88payAccount.credentials,
          )
      : null,
    // SNAP accounts whose provider key the sandbox holds (snap-sandbox-keys.json files).
    snap.settings.providers.length > 0
      ? (context) => new SnapSandbox(context, snap.settings)
      : null,
    // Top-up request APIs; their reports go to the callback URL with the gateway's token.
    ppob
      ? ppobSandbox({
          username: ppob.username,
          token: ppob.token,
          callbackToken: urlToken(config.providers.ppob),
        })
      : null,
    sidopulsa
      ? sidopulsaSandbox({
          apiUser: sidopulsa.apiUser,
          apiKey: sidopulsa.apiKey,
          callbackToken: urlToken(config.providers.sidopulsa),
        })
      : null,
  ];
  return factories.filter((factory): factory is SandboxProviderFactory => factory !== null);
}
