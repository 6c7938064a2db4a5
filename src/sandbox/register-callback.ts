import type { ProviderName } from '../config/accounts.js';
import type { ProvidersConfig } from '../config/gateway-config.js';
import type { SimulatedRequest } from './simulation.js';

/**
 * For `npm run simulate`: when the gateway will confirm this provider's callbacks with its status
 * API, tells that API — the provider sandbox — about the simulated transaction first, so the
 * inquiry confirms it. Returns a line to print, or null when the provider is not verified.
 */
export async function registerWithSandbox(
  providers: ProvidersConfig,
  request: SimulatedRequest,
): Promise<string | null> {
  const settings = providers[request.provider as ProviderName] as {
    inquiry?: { apiUrl: string } | null;
  } | null;
  const apiUrl = settings?.inquiry?.apiUrl;
  if (!apiUrl) return null;
  return registerAt(apiUrl, request);
}

/** Registers the simulated callback with the provider sandbox at `apiUrl`; a line to print. */
export async function registerAt(apiUrl: string, request: SimulatedRequest): Promise<string> {
  const where = `${apiUrl}/sandbox/${request.provider}/callbacks`;
  try {
    const response = await fetch(where, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
      }),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (response.status === 201)
      return `  (held by the provider sandbox at ${apiUrl}: the gateway's inquiry will confirm it)`;
    return `  warning: ${where} answered ${response.status} ${text.slice(0, 200)}: the gateway's inquiry will not confirm this callback`;
  } catch {
    return `  warning: the provider sandbox is not running at ${apiUrl} (npm run sandbox): the event waits until the status API confirms it`;
  }
}

/**
 * For the developer tools (Swagger UI's live examples, `POST /dev/sign`): the same, but only when
 * the provider's status API is a sandbox on this machine, so a real provider is never sent a
 * sandbox registration. Never throws: an unregistered callback just waits for its inquiry.
 */
export async function registerWithLocalSandbox(
  providers: ProvidersConfig,
  request: SimulatedRequest,
  /** The status API's URL when it is the account's own (SNAP), not the provider's. */
  accountApiUrl?: string,
): Promise<void> {
  const settings = providers[request.provider as ProviderName] as {
    inquiry?: { apiUrl: string } | null;
  } | null;
  const apiUrl = accountApiUrl ?? settings?.inquiry?.apiUrl;
  if (!apiUrl) return;
  let host: string;
  try {
    host = new URL(apiUrl).hostname;
  } catch {
    return;
  }
  if (!['localhost', '127.0.0.1', '[::1]'].includes(host)) return;
  await registerAt(apiUrl, request).catch(() => null);
}
