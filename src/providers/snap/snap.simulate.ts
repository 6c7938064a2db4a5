import type { GatewayConfig } from '../../config/gateway-config.js';
import { snapProviderKeys, snapSandboxSettings } from './snap.sandbox-config.js';
import { SNAP_TOKEN_REQUEST_BODY, snapTokenRequestHeaders } from './snap.sandbox-signing.js';
import {
  isSnapService,
  newSnapTransaction,
  snapNotification,
  snapNotifies,
  SNAP_SERVICE_PATHS,
  snapTokenPath,
  type SnapProviderIdentity,
  type SnapRequest,
  type SnapTransaction,
} from './snap.simulator.js';
import { registerAt } from '../../sandbox/register-callback.js';
import { routingKeyOf, type SimulatedRequest } from '../../sandbox/simulation.js';

export const SNAP_USAGE = [
  "SNAP notifications (accounts file, docs/snap.md), signed as the profile's provider does:",
  '  npm run simulate -- snap <profile or account> [--service 25|34|52|56] [--status <status>]',
  '                      [--url <gateway>] [--reference <ref>]',
  '  e.g. npm run simulate -- snap nicepay-snap   (the demo has one account per shipped profile)',
].join('\n');

/** A SNAP simulation that cannot run: the message says why and what to do. */
export class SnapSimulationError extends Error {}

/** No SNAP account of that id or profile is configured. */
export class SnapAccountNotFoundError extends SnapSimulationError {}

export interface PreparedSnapSimulation {
  request: SimulatedRequest;
  /** Lines to print after the request (the token exchange, the sandbox registration). */
  notes: string[];
}

/**
 * The provider of the account `name` designates (its id, else the first account of that profile;
 * no name: the first account), as the sandbox signs for it.
 */
export function snapIdentityOf(config: GatewayConfig, name?: string): SnapProviderIdentity {
  const snap = config.providers.snap;
  if (!snap) {
    throw new SnapAccountNotFoundError(
      'No SNAP account is configured: add a snap section to the accounts file (ACCOUNTS_FILE, docs/snap.md).',
    );
  }
  const account =
    name === undefined
      ? snap.accounts[0]
      : (snap.accounts.find((a) => a.id === name) ??
        snap.accounts.find((a) => a.profile.name === name));
  if (!account) {
    throw new SnapAccountNotFoundError(
      `No SNAP account or profile ${JSON.stringify(name)}: configured are ${snap.accounts
        .map((a) => `${a.id} (${a.profile.name})`)
        .join(', ')}`,
    );
  }
  const { settings, skipped } = snapSandboxSettings(
    { ...snap, accounts: [account] },
    snapProviderKeys(config.accounts.file),
  );
  const identity = settings.providers[0];
  if (!identity) {
    throw new SnapSimulationError(
      `Cannot sign as the provider of ${account.id}: ${skipped.join('; ')} (put the provider's private key in a snap-sandbox-keys.json beside the accounts file: docs/verification.md#snap-in-the-sandbox)`,
    );
  }
  return identity;
}

/**
 * One SNAP notification of the account's provider, ready to send to the gateway at `baseUrl`:
 * family B first gets its token from that gateway; family A (body not signed, confirmed by the
 * status API) is first registered with the provider sandbox at the account's apiUrl, so the
 * gateway's inquiry finds it.
 */
export async function prepareSnapSimulation(
  config: GatewayConfig,
  name: string,
  input: { status: string; reference?: string; service?: string; baseUrl: string },
): Promise<PreparedSnapSimulation> {
  const identity = snapIdentityOf(config, name);
  const tx = snapTransactionFor(identity, input);
  const notes: string[] = [];
  let accessToken: string | undefined;
  if (identity.family === 'hmac-token') {
    const { token, note } = await gatewayToken(identity, input.baseUrl);
    accessToken = token;
    notes.push(note);
  }
  const notification = snapNotification(identity, tx, input.baseUrl, { accessToken });
  const request = snapSimulatedRequest(identity, tx, notification);
  const apiUrl = config.providers.snap?.accounts.find((a) => a.id === identity.account)?.apiUrl;
  if (identity.family === 'rsa-clientkey' && apiUrl) notes.push(await registerAt(apiUrl, request));
  return { request, notes };
}

/** Family B: the provider asks the merchant (the gateway) for an access token first. */
async function gatewayToken(
  identity: SnapProviderIdentity,
  baseUrl: string,
): Promise<{ token: string; note: string }> {
  const url = `${baseUrl}${snapTokenPath(identity.account)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: snapTokenRequestHeaders(identity.clientKey, identity.privateKey!),
      body: SNAP_TOKEN_REQUEST_BODY,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw new SnapSimulationError(
      `Could not reach the gateway at ${baseUrl} for the access token: ${cause?.message ?? (error as Error).message}`,
    );
  }
  const text = await response.text();
  let token: unknown;
  try {
    token = (JSON.parse(text) as { accessToken?: unknown }).accessToken;
  } catch {
    token = undefined;
  }
  if (response.status !== 200 || typeof token !== 'string' || token === '') {
    throw new SnapSimulationError(
      `The gateway refused the access token request (POST ${url}): ${response.status} ${text.slice(0, 200)}`,
    );
  }
  return {
    token,
    note: `  (access token obtained from the gateway: POST ${snapTokenPath(identity.account)} → ${response.status})`,
  };
}

/**
 * A new transaction of the account's provider for `service` (default: its first) in `status`,
 * one the provider notifies; SnapSimulationError names what is wrong.
 */
export function snapTransactionFor(
  identity: SnapProviderIdentity,
  input: { status: string; reference?: string; service?: string },
): SnapTransaction {
  if (input.service !== undefined && !isSnapService(input.service))
    throw new SnapSimulationError(
      `service must be one of ${Object.keys(SNAP_SERVICE_PATHS).join(', ')}`,
    );
  if (input.service !== undefined && !identity.services.includes(input.service)) {
    throw new SnapSimulationError(
      `${identity.account} does not receive service ${input.service} (its profile lists ${identity.services.join(', ')})`,
    );
  }
  let tx;
  try {
    tx = newSnapTransaction(identity, {
      service: input.service,
      status: input.status,
      reference: input.reference,
    });
  } catch (error) {
    throw new SnapSimulationError((error as Error).message);
  }
  if (!snapNotifies(tx)) {
    throw new SnapSimulationError(
      `A virtual-account notification (service ${tx.service}) is sent when the VA is paid: use status succeeded, or service 52/56 for other statuses`,
    );
  }
  return tx;
}

/** The notification as the developer tools describe a simulated request. */
export function snapSimulatedRequest(
  identity: SnapProviderIdentity,
  tx: SnapTransaction,
  notification: SnapRequest,
): SimulatedRequest {
  const status = identity.statusTable[tx.status];
  return {
    provider: 'snap',
    method: 'POST',
    path: notification.path,
    displayPath: notification.path,
    headers: notification.headers,
    body: notification.body,
    providerStatus: tx.status,
    status,
    routingKey: routingKeyOf('payment', status, 'snap'),
    reference: tx.reference,
  };
}
