import type { GatewayConfig } from '../config/gateway-config.js';
import { McpaymentSandbox } from '../providers/mcpayment/mcpayment.sandbox.js';
import { NicepaySandbox } from '../providers/nicepay/nicepay.sandbox.js';
import { S88paySandbox } from '../providers/s88pay/s88pay.sandbox.js';
import type { SandboxProviderFactory } from './sandbox-server.js';

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
  const factories: Array<SandboxProviderFactory | null> = [
    nicepay ? (context) => new NicepaySandbox(context, nicepay) : null,
    mcpayment?.inquiry
      ? (context) => new McpaymentSandbox(context, { ...mcpayment, inquiry: mcpayment.inquiry! })
      : null,
    s88pay?.inquiry
      ? (context) => new S88paySandbox(context, { ...s88pay, inquiry: s88pay.inquiry! })
      : null,
  ];
  return factories.filter((factory): factory is SandboxProviderFactory => factory !== null);
}
