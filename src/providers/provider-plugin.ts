import type { Type } from '@nestjs/common';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { ProviderSimulator } from '../sandbox/provider-simulator.js';
import type { SandboxProviderFactory } from '../sandbox/sandbox-server.js';
import type { TopupOrderClient } from '../topups/topup-order-client.js';

/**
 * The provider's part of the running gateway: its Nest module brings the controller, guard and
 * CallbackProvider (found by CallbackProviderRegistry) and the status API (found by
 * StatusApiRegistry).
 */
export interface ProviderGateway {
  module: Type;
  /** The request API client of a provider that takes top-up orders. */
  orderClient?: Type<TopupOrderClient>;
}

/**
 * Everything the gateway and its tools take from one provider, filled in by
 * src/providers/<name>/<name>.plugin.ts and listed once in src/providers/index.ts.
 */
export interface ProviderPlugin {
  /** Loaded when the gateway starts, so the commands (simulate, sandbox) never load NestJS. */
  gateway(): Promise<ProviderGateway>;
  /**
   * Signs callbacks as the provider would, from a status alone: npm run simulate, POST /dev/sign,
   * the docs' examples. Absent for a provider simulated otherwise (SNAP: per profile and account).
   */
  simulator?: ProviderSimulator;
  /** Plays the provider's APIs in the sandbox when the configuration has what it checks, else null. */
  sandbox(config: GatewayConfig): SandboxProviderFactory | null;
}
