import type { OpenAPIObject } from '@nestjs/swagger';
import { currentKey } from '../config/accounts.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { localUrl } from '../config/startup-environment.js';
import { snapProviderKeys, snapSandboxSettings } from '../providers/snap/snap.sandbox-config.js';
import {
  newSnapTransaction,
  SNAP_SERVICE_PATHS,
  snapNotification,
} from '../providers/snap/snap.simulator.js';
import { issueToken } from '../providers/snap/snap.token.js';
import { registerWithLocalSandbox } from '../sandbox/register-callback.js';
import type { SimulatedRequest } from './simulation.js';
import { snapSimulatedRequest } from './snap-simulate.js';

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
  const { settings } = snapSandboxSettings(snap, snapProviderKeys(config.accounts.file));
  for (const identity of settings.providers) {
    const account = snap.accounts.find((a) => a.id === identity.account)!;
    const tx = newSnapTransaction(identity, { status: 'succeeded' });
    const servicePath = SNAP_SERVICE_PATHS[tx.service];
    const item = live.paths[`/callbacks/snap/{account}${servicePath}`];
    const template = item?.post as Operation | undefined;
    if (!template) continue;
    const key = currentKey(account);
    const accessToken =
      identity.family === 'hmac-token' && key?.clientSecret
        ? issueToken(account, key.clientSecret, account.profile.tokenTtlSeconds)
        : undefined;
    const notification = snapNotification(identity, tx, localUrl(config), { accessToken });
    const request = snapSimulatedRequest(identity, tx, notification);
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
    if (accessToken) {
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
    // A verified profile's inquiry must find the example's transaction: the local sandbox holds it.
    if (account.profile.statusApi && account.apiUrl)
      void registerWithLocalSandbox(config.providers, request, account.apiUrl);
  }
}
