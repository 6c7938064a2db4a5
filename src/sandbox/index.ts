import type { GatewayConfig } from '../config/gateway-config.js';
import { McpaymentSandbox } from '../providers/mcpayment/mcpayment.sandbox.js';
import { NicepaySandbox } from '../providers/nicepay/nicepay.sandbox.js';
import { S88paySandbox } from '../providers/s88pay/s88pay.sandbox.js';
import { ppobSandbox } from './ppob.sandbox.js';
import type { SandboxProviderFactory } from './sandbox-server.js';
import { sidopulsaSandbox } from './sidopulsa.sandbox.js';

export {
  startSandbox,
  type RunningSandbox,
  type SandboxProviderFactory,
} from './sandbox-server.js';

/**
 * Every provider the sandbox plays, with the credentials of the gateway configuration (the same
 * .env): a provider is played when the gateway has what the provider would check. Adding one:
 * write src/providers/<name>/<name>.sandbox.ts and list it here.
 */
export function sandboxProviders(config: GatewayConfig): SandboxProviderFactory[] {
  const { nicepay, mcpayment, s88pay } = config.providers;
  const { ppob, sidopulsa } = config.topups;
  const factories: Array<SandboxProviderFactory | null> = [
    nicepay ? (context) => new NicepaySandbox(context, nicepay) : null,
    mcpayment?.inquiry
      ? (context) => new McpaymentSandbox(context, { ...mcpayment, inquiry: mcpayment.inquiry! })
      : null,
    s88pay?.inquiry
      ? (context) => new S88paySandbox(context, { ...s88pay, inquiry: s88pay.inquiry! })
      : null,
    // Top-up request APIs; their reports go to the callback URL with the gateway's token.
    ppob
      ? ppobSandbox({
          username: ppob.username,
          token: ppob.token,
          callbackToken: config.providers.ppob?.token ?? null,
        })
      : null,
    sidopulsa
      ? sidopulsaSandbox({
          apiUser: sidopulsa.apiUser,
          apiKey: sidopulsa.apiKey,
          callbackToken: config.providers.sidopulsa?.token ?? null,
        })
      : null,
  ];
  return factories.filter((factory): factory is SandboxProviderFactory => factory !== null);
}
