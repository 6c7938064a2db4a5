import type { ProvidersConfig } from '../config/gateway-config.js';
import type { SimulatedRequest } from '../dev/simulation.js';

/**
 * For `npm run simulate`: when the gateway will confirm this provider's callbacks with its status
 * API, tells that API — the provider sandbox — about the simulated transaction first, so the
 * inquiry confirms it. Returns a line to print, or null when the provider is not verified.
 */
export async function registerWithSandbox(
  providers: ProvidersConfig,
  request: SimulatedRequest,
): Promise<string | null> {
  const settings = providers[request.provider as keyof ProvidersConfig] as {
    inquiry?: { apiUrl: string } | null;
  } | null;
  const apiUrl = settings?.inquiry?.apiUrl;
  if (!apiUrl) return null;
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
