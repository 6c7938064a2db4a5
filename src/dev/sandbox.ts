import type { GatewayConfig } from '../config/gateway-config.js';
import { PROVIDERS } from '../providers/index.js';
import type { SandboxProviderFactory } from '../sandbox/sandbox-server.js';

export {
  startSandbox,
  type RunningSandbox,
  type SandboxProviderFactory,
} from '../sandbox/sandbox-server.js';

/**
 * Every provider the sandbox plays, with the credentials of the gateway configuration (the same
 * .env): a provider is played when the gateway has what the provider would check. Each provider
 * says how in its plugin (src/providers/<name>/<name>.plugin.ts).
 */
export function sandboxProviders(config: GatewayConfig): SandboxProviderFactory[] {
  return PROVIDERS.flatMap((provider) => provider.sandbox(config) ?? []);
}
