import type { Type } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { ProviderAccountSection } from '../config/account-sections.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { ProviderSimulator } from '../sandbox/provider-simulator.js';
import type { SandboxProviderFactory } from '../sandbox/sandbox-server.js';
import type { SimulatedRequest } from '../sandbox/simulation.js';
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

/** A provider simulated by name rather than by status: `simulate -- <command> <name>` (SNAP). */
export interface NamedSimulation {
  command: string;
  /** For messages: `Give one SNAP profile or account after snap.` */
  displayName: string;
  what: string;
  usage: string;
  prepare(
    config: GatewayConfig,
    name: string,
    options: { status: string; reference?: string; service?: string; baseUrl: string },
  ): Promise<{ request: SimulatedRequest; notes: string[] }>;
  /** An error that is a message for the person (an unknown profile, a missing key), not a fault. */
  isUsageError(error: unknown): error is Error;
  /** Of those, the ones that mean the named account does not exist (404 rather than 400). */
  isNotFound(error: unknown): error is Error;
  /** The string fields POST /dev/sign/<command> takes besides status and reference. */
  devSignFields: string[];
  /** Signs one callback for POST /dev/sign/<command> (and holds it in the local sandbox). */
  devSign(
    config: GatewayConfig,
    input: { status: string; reference?: string } & Record<string, string | undefined>,
  ): Promise<SimulatedRequest>;
}

/**
 * Everything the gateway and its tools take from one provider, filled in by
 * src/providers/<name>/<name>.plugin.ts and listed once in src/providers/index.ts.
 */
export interface ProviderPlugin {
  /** Loaded when the gateway starts, so the commands (simulate, sandbox) never load NestJS. */
  gateway(): Promise<ProviderGateway>;
  /**
   * The provider's account section when its credentials have a shape of their own: registered
   * before the configuration is loaded, its accounts are in `config.providers.extra`.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each plugin's own account type
  accounts?: ProviderAccountSection<any, any, any>;
  /**
   * Signs callbacks as the provider would, from a status alone: npm run simulate, POST /dev/sign,
   * the docs' examples. Absent for a provider simulated otherwise (SNAP: per profile and account).
   */
  simulator?: ProviderSimulator;
  /** Plays the provider's APIs in the sandbox when the configuration has what it checks, else null. */
  sandbox(config: GatewayConfig): SandboxProviderFactory | null;
  /** What `npm run sandbox` should say about this provider (SNAP: the accounts it cannot play). */
  sandboxNotes?(config: GatewayConfig): string[];
  namedSimulation?: NamedSimulation;
  /** Adds signed examples the simulator cannot make to the Swagger UI (developer tools). */
  liveExamples?(
    document: OpenAPIObject,
    config: GatewayConfig,
    apply: (document: OpenAPIObject, request: SimulatedRequest, only: string) => void,
  ): void;
}
