/**
 * Sends one simulated provider callback to a gateway and prints the request and the response.
 *
 *   npm run simulate -- <provider> --status <status> [--url <gateway>] [--reference <ref>]
 *   npm run simulate -- snap <profile or account> [--service <code>] [--status <status>] …
 *
 * The callback is real-shaped and signed / encrypted exactly as the provider does, with the
 * credentials the gateway is configured with (.env in the working directory, then the
 * environment). Exit code 0 when the gateway answers 2xx, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { ConfigurationError } from '../config/environment.js';
import { type GatewayConfig, loadConfig } from '../config/gateway-config.js';
import { localUrl, startupEnvironment } from '../config/startup-environment.js';
import { type SimulatedRequest, UnknownStatusError } from '../sandbox/simulation.js';
import { EXPECT_USAGE, runExpectLoop } from '../dev/expect-loop.js';
import { PROVIDERS } from '../providers/index.js';
import { runTopupLoop, TOPUP_USAGE } from '../dev/topup-loop.js';
import { registerWithSandbox } from '../sandbox/register-callback.js';
import {
  SIMULATED_PROVIDERS,
  SIMULATORS,
  UnknownProviderError,
  simulatorFor,
} from '../dev/simulators.js';

/** Providers simulated by name (SNAP: `simulate -- snap <profile or account>`). */
const NAMED = PROVIDERS.flatMap(({ namedSimulation }) =>
  namedSimulation ? [namedSimulation] : [],
);

function usage(): string {
  const lines = [
    'Usage: npm run simulate -- <provider> --status <status> [--url <gateway>] [--reference <ref>]',
    '',
    "  --status, -s     the provider's own status or a normalized one (default: succeeded)",
    '  --url, -u        gateway base URL (default: http://$HOST:$PORT, 127.0.0.1 for 0.0.0.0)',
    '  --reference, -r  merchant reference, the event subject (default: a unique SIM-… one)',
    '',
    'Providers and statuses:',
    ...SIMULATED_PROVIDERS.map(
      (name) => `  ${name.padEnd(10)} ${SIMULATORS[name].statuses.join(', ')}`,
    ),
    ...NAMED.flatMap((named) => ['', named.usage]),
    '',
    TOPUP_USAGE,
    '',
    EXPECT_USAGE,
  ];
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** JSON pretty-printed, form fields one per line; anything else as is. */
function showBody(body: string, contentType: string | null): string {
  if (contentType?.includes('json')) {
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }
  if (contentType?.includes('x-www-form-urlencoded')) {
    return [...new URLSearchParams(body)].map(([name, value]) => `${name}=${value}`).join('\n');
  }
  return body;
}

function printRequest(baseUrl: string, request: SimulatedRequest): void {
  const out: string[] = [
    `> ${request.method} ${baseUrl}${request.displayPath}`,
    ...Object.entries(request.headers).map(([name, value]) => `> ${name}: ${value}`),
  ];
  if (request.body !== undefined) {
    out.push('>', indent(showBody(request.body, request.headers['content-type'] ?? null)));
  }
  out.push(
    `  (${request.provider} status ${request.providerStatus} → expected event ${request.routingKey}, subject ${request.reference})`,
    '',
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

function hint(request: SimulatedRequest, status: number): string | null {
  if (status === 403) {
    const variable = `${request.provider.toUpperCase()}_ALLOWED_IPS`;
    return `hint: this machine's address is not on the gateway's ${variable} (set it to include it, or * for local testing)`;
  }
  if (status === 401) {
    return 'hint: the gateway refused the signature/token: is it running with the same credentials as this command (.env)?';
  }
  if (status === 404)
    return `hint: ${request.provider} is not configured on the gateway at that URL`;
  return null;
}

async function run(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  if (argv[0] === 'topup') return runTopup(argv.slice(1), env);
  if (argv[0] === 'expect') return runExpect(argv.slice(1), env);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        status: { type: 'string', short: 's' },
        url: { type: 'string', short: 'u' },
        reference: { type: 'string', short: 'r' },
        service: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage()}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  const named = NAMED.find(({ command }) => command === positionals[0]);
  if (positionals.length !== (named ? 2 : 1)) {
    process.stderr.write(
      `${named ? `Give one ${named.displayName} ${named.what} after ${named.command}.` : 'Give exactly one provider.'}\n\n${usage()}`,
    );
    return 1;
  }
  if (!named && values.service !== undefined) {
    process.stderr.write(
      `--service is for ${NAMED.map(({ displayName }) => displayName).join(', ')} only.\n\n${usage()}`,
    );
    return 1;
  }

  let config: GatewayConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }

  const baseUrl = (values.url ?? localUrl(config)).replace(/\/+$/, '');
  let request: SimulatedRequest;
  let notes: string[] = [];
  if (named) {
    try {
      ({ request, notes } = await named.prepare(config, positionals[1], {
        status: values.status ?? 'succeeded',
        reference: values.reference,
        service: values.service,
        baseUrl,
      }));
    } catch (error) {
      if (!named.isUsageError(error)) throw error;
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
  } else {
    try {
      const simulator = simulatorFor(positionals[0]);
      if (!simulator.configured(config.providers)) {
        process.stderr.write(
          `${simulator.displayName} is not configured: set ${simulator.configuredBy} ` +
            '(in .env or the environment) to the values the gateway uses.\n',
        );
        return 1;
      }
      request = simulator.simulate(
        config.providers,
        values.status ?? 'succeeded',
        values.reference,
      );
    } catch (error) {
      if (error instanceof UnknownProviderError || error instanceof UnknownStatusError) {
        process.stderr.write(`${error.message}\n`);
        return 1;
      }
      process.stderr.write(`${(error as Error).message}\n`);
      return 1;
    }
  }

  printRequest(baseUrl, request);
  const registered = await registerWithSandbox(config.providers, request);
  for (const line of registered ? [...notes, registered] : notes) process.stdout.write(`${line}\n`);

  let response: Response;
  try {
    response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    process.stderr.write(
      `Could not reach the gateway at ${baseUrl}: ${cause?.message ?? (error as Error).message}\n` +
        'Is it running (npm start)? Use --url to point elsewhere.\n',
    );
    return 1;
  }
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  process.stdout.write(
    `< ${response.status} ${response.statusText}\n` +
      (contentType ? `< content-type: ${contentType}\n` : '') +
      `<\n${indent(showBody(text, contentType))}\n`,
  );
  const ok = response.status >= 200 && response.status < 300;
  if (!ok) {
    const advice = hint(request, response.status);
    if (advice) process.stderr.write(`${advice}\n`);
  }
  return ok ? 0 : 1;
}

/** `simulate -- topup …`: a top-up command through the gateway, and the events it becomes. */
async function runTopup(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  try {
    const config = loadConfig(env);
    return await runTopupLoop(argv, config, (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${TOPUP_USAGE}\n`);
    return 1;
  }
}

/** `simulate -- expect …`: an expected payment whose callbacks never come, found by inquiry. */
async function runExpect(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  try {
    const config = loadConfig(env);
    return await runExpectLoop(argv, config, (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${EXPECT_USAGE}\n`);
    return 1;
  }
}

// The gateway's own rules: .env outside production, else the demo configuration in development.
Promise.resolve()
  .then(() => run(process.argv.slice(2), startupEnvironment().env))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`simulate failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
