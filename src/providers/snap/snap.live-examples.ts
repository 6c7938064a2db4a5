import type { OpenAPIObject } from '@nestjs/swagger';
import { currentKey, type SnapAccount } from '../../config/accounts.js';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { localUrl } from '../../config/startup-environment.js';
import { snapProviderKeys, snapSandboxSettings } from './snap.sandbox-config.js';
import {
  newSnapTransaction,
  SNAP_SERVICE_PATHS,
  snapNotification,
  type SnapProviderIdentity,
  type SnapTransaction,
} from './snap.simulator.js';
import { issueToken } from './snap.token.js';
import { registerWithLocalSandbox } from '../../sandbox/register-callback.js';
import type { SimulatedRequest } from '../../sandbox/simulation.js';
import { snapIdentityOf, snapSimulatedRequest, snapTransactionFor } from './snap.simulate.js';

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  security?: Array<Record<string, string[]>>;
}

/** Headers Swagger UI sends from parameters (it never sends these three from one: OpenAPI 3). */
const NOT_PARAMETERS = new Set(['content-type', 'authorization', 'accept']);

/**
 * SNAP's routes name the account in the path (`/callbacks/snap/{account}/v1.0/…`) and each account
 * signs differently, so one example per route cannot serve them all: every SNAP account the
 * sandbox can play gets its own copy of its first service's route, with the account in the path,
 * the SNAP headers as parameters and a notification signed just now as its provider signs it
 * (family B: with a token from the gateway's own issuer, to authorize with; family A: held by
 * the local sandbox, so the status inquiry confirms it).
 */
export function withSnapLiveExamples(
  live: OpenAPIObject,
  config: GatewayConfig,
  apply: (document: OpenAPIObject, request: SimulatedRequest, only: string) => void,
): void {
  const snap = config.providers.snap;
  if (!snap) return;
  let keys;
  try {
    keys = snapProviderKeys(config.accounts.file);
  } catch {
    return; // a malformed key file: the page keeps the fixed examples (simulate names the problem)
  }
  const { settings } = snapSandboxSettings(snap, keys);
  for (const identity of settings.providers) {
    const tx = newSnapTransaction(identity, { status: 'succeeded' });
    const servicePath = SNAP_SERVICE_PATHS[tx.service];
    const item = live.paths[`/callbacks/snap/{account}${servicePath}`];
    const template = item?.post as Operation | undefined;
    if (!template) continue;
    const { account, notification, request } = devSigned(config, identity, tx);
    const operation: Operation = structuredClone(template);
    operation.operationId = `${template.operationId ?? 'snapNotification'}_${identity.account}`;
    operation.summary = `${account.profile.displayName} — account ${identity.account}: ${template.summary ?? servicePath}`;
    const parameters = (operation.parameters ?? []).filter((p) => p.in !== 'path');
    for (const name of Object.keys(notification.headers)) {
      if (NOT_PARAMETERS.has(name)) continue;
      if (!parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === name))
        parameters.push({ name, in: 'header', required: true, schema: { type: 'string' } });
    }
    operation.parameters = parameters;
    if (notification.headers.authorization) {
      // Swagger UI sends Authorization only from a security scheme: this one, with the token.
      const scheme = `snapToken_${identity.account}`;
      live.components = {
        ...live.components,
        securitySchemes: {
          ...live.components?.securitySchemes,
          [scheme]: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: `The access token the gateway issued to ${identity.account}'s provider, which the example's X-SIGNATURE covers: authorize with \`${notification.headers.authorization}\``,
          },
        },
      };
      operation.security = [{ [scheme]: [] }];
      operation.description = `${operation.description ?? ''}\n\n**Try it out:** first "Authorize" ${scheme} with \`${notification.headers.authorization}\` (the token this example is signed with).`;
    }
    live.paths[notification.path] = { post: operation } as unknown as typeof item;
    apply(live, request, notification.path);
    void registerLocally(config, account, request);
  }
}

/** A verified profile's inquiry must find the transaction: the local sandbox holds it. */
async function registerLocally(
  config: GatewayConfig,
  account: SnapAccount,
  request: SimulatedRequest,
): Promise<void> {
  if (account.profile.statusApi && account.apiUrl)
    await registerWithLocalSandbox(config.providers, request, account.apiUrl);
}

/**
 * The notification of `tx` signed now for the developer tools, in the gateway's process: family
 * B's token comes from the gateway's own issuer (the provider would have asked for it).
 */
function devSigned(config: GatewayConfig, identity: SnapProviderIdentity, tx: SnapTransaction) {
  const account = config.providers.snap!.accounts.find((a) => a.id === identity.account)!;
  const key = currentKey(account);
  const accessToken =
    identity.family === 'hmac-token' && key?.clientSecret
      ? issueToken(account, key.clientSecret, account.profile.tokenTtlSeconds)
      : undefined;
  const notification = snapNotification(identity, tx, localUrl(config), { accessToken });
  return { account, notification, request: snapSimulatedRequest(identity, tx, notification) };
}

/**
 * `POST /dev/sign/snap`: a notification of the account (id or profile; default the first) for
 * `service` and `status`, signed now; held by the local sandbox where the status API confirms it.
 * Throws SnapSimulationError (SnapAccountNotFoundError) naming the problem.
 */
export async function snapDevSign(
  config: GatewayConfig,
  input: { account?: string; service?: string; status: string; reference?: string },
): Promise<SimulatedRequest> {
  const identity = snapIdentityOf(config, input.account);
  const tx = snapTransactionFor(identity, input);
  const { account, request } = devSigned(config, identity, tx);
  await registerLocally(config, account, request);
  return request;
}
