import { loadConfig } from '../../src/config/gateway-config.js';
import { type RunningSandbox, sandboxProviders, startSandbox } from '../../src/dev/sandbox.js';
import { INQUIRY_CREDENTIALS_ENV, PROVIDER_ENV } from './credentials.js';

export interface TestSandbox {
  sandbox: RunningSandbox;
  /** Gateway environment that points every status API at the sandbox (verification on). */
  env: Record<string, string>;
}

/** The gateway environment for status APIs at `url` (the sandbox, or a proxy in front of it). */
export function inquiryEnv(url: string): Record<string, string> {
  return {
    ...INQUIRY_CREDENTIALS_ENV,
    NICEPAY_API_URL: url,
    NICEPAY_VERIFY: 'inquiry',
    MCPAYMENT_API_URL: url,
    MCPAYMENT_VERIFY: 'inquiry',
    S88PAY_API_URL: url,
    S88PAY_VERIFY: 'inquiry',
  };
}

/**
 * An in-process provider sandbox on a free loopback port, with the test credentials. Callbacks
 * go to `gatewayUrl` (settable later: `sandbox.setGatewayUrl`).
 */
export async function startTestSandbox(
  gatewayUrl?: string,
  /** Credentials other than the shared test ones (the gateway under test must get the same). */
  credentials: Record<string, string> = {},
): Promise<TestSandbox> {
  // The sandbox only needs the credentials; its own URL is not known yet.
  const config = loadConfig({
    ...PROVIDER_ENV,
    ...inquiryEnv('http://127.0.0.1:9'),
    ...credentials,
  });
  const sandbox = await startSandbox({ providers: sandboxProviders(config), gatewayUrl });
  return { sandbox, env: inquiryEnv(sandbox.url) };
}
