/**
 * The local provider sandbox: plays NICEPAY, MCPayment and S88Pay (their status APIs, with the
 * providers' own authentication checks and errors) and sends their callbacks to the gateway.
 *
 *   npm run sandbox -- [--port <port>] [--host <address>] [--gateway <url>]
 *
 * Credentials come from the gateway's configuration (.env in the working directory, then the
 * environment), so the sandbox accepts exactly what the gateway signs and vice versa.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigurationError } from '../config/environment.js';
import { loadConfig } from '../config/gateway-config.js';
import { PROVIDERS } from '../providers/index.js';
import { sandboxProviders, startSandbox } from '../dev/sandbox.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      gateway: { type: 'string', short: 'g' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run sandbox -- [--port <port>] [--host <address>] [--gateway <url>]\n\n' +
        '  --port, -p     port to listen on (default: SANDBOX_PORT, 4010)\n' +
        '  --host         address to listen on (default: 127.0.0.1; 0.0.0.0 in a container)\n' +
        '  --gateway, -g  gateway base URL callbacks are sent to (default: http://localhost:$PORT)\n',
    );
    return 0;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const port = values.port === undefined ? config.sandbox.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number, not ${values.port}\n`);
    return 1;
  }
  const providers = sandboxProviders(config);
  if (providers.length === 0) {
    process.stderr.write(
      'No provider to play: configure NICEPAY (NICEPAY_IMID, NICEPAY_MERCHANT_KEY), MCPayment ' +
        '(MCPAYMENT_HASH_KEY, MCPAYMENT_MERCHANT_ID, MCPAYMENT_SECRET_UNBOUND_ID) or S88Pay ' +
        '(S88PAY_API_KEY, S88PAY_SECRET_KEY, S88PAY_MERCHANT_CODE), e.g. cp .env.example .env, ' +
        'or SNAP accounts in ACCOUNTS_FILE (docs/snap.md)\n',
    );
    return 1;
  }
  const sandbox = await startSandbox({
    providers,
    port,
    host: values.host,
    gatewayUrl: values.gateway ?? `http://localhost:${config.port}`,
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  const names = sandbox.providers.map((p) => p.name);
  process.stdout.write(
    `Provider sandbox on ${sandbox.url}, playing ${names.join(', ')}; callbacks go to ${values.gateway ?? `http://localhost:${config.port}`}\n` +
      names
        .map(
          (name) =>
            `  POST ${sandbox.url}/sandbox/${name}/transactions  {"status":"succeeded"}  creates one and sends its callback`,
        )
        .join('\n') +
      '\n',
  );
  for (const provider of PROVIDERS) {
    for (const note of provider.sandboxNotes?.(config) ?? []) process.stdout.write(`  ${note}\n`);
  }
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

if (existsSync('.env')) process.loadEnvFile('.env');
main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`sandbox failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
