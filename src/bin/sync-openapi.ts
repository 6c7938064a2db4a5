/**
 * Writes the committed OpenAPI document, openapi/openapi.json, from the application itself.
 *
 *   node dist/src/bin/sync-openapi.js           regenerate the file
 *   node dist/src/bin/sync-openapi.js --check   exit 1 when the committed file is out of date
 *
 * The app is built for one fixed configuration (every provider enabled with the demo values of
 * .env.example, SQLite in a temporary directory, an unreachable broker) so the document is the
 * same on every machine, whatever the local environment says.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGateway } from '../app.factory.js';
import { loadConfig } from '../config/gateway-config.js';
import { projectRoot } from '../config/startup-environment.js';
import { openApiDocument } from '../http/openapi.js';

/** Where the committed document lives, relative to the project root. */
export const OPENAPI_FILE = 'openapi/openapi.json';

/** The environment the document is generated for: never read from the real environment. */
const DOCUMENT_ENVIRONMENT: Record<string, string> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'silent',
  DOCS_ENABLED: 'true',
  SERVICE_NAME: 'payment-callback-gateway',
  // Port 1 on loopback refuses at once: the publisher connects in the background and never
  // blocks app creation, so no broker is needed (and none is touched).
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
  EVENTS_EXCHANGE: 'payments.events',
  S88PAY_API_KEY: 'myapikey',
  S88PAY_SECRET_KEY: 'mysecretkey',
  MCPAYMENT_HASH_KEY: 'HASHKEY123',
  MCPAYMENT_MERCHANT_ID: 'demo-merchant-id',
  MCPAYMENT_SECRET_UNBOUND_ID: 'demo-secret-unbound-id',
  // NICEPAY's published sandbox merchant (NICEPAY_SANDBOX in the provider's samples).
  NICEPAY_IMID: 'IONPAYTEST',
  NICEPAY_MERCHANT_KEY:
    '33F49GnCMS1mFYlGXisbUDzVf2ATWCl9k3R++d5hDd3Frmuos/XLx8XhXpe+LDYAbpGKZYSwtlyyLOtS/8aD7A==',
  NICEPAY_ALLOWED_IPS: '*',
  SIDOPULSA_ALLOWED_IPS: '*',
  SIDOPULSA_CALLBACK_TOKEN: 'local-sidopulsa-token-change-me',
  PPOB_ALLOWED_IPS: '*',
  PPOB_CALLBACK_TOKEN: 'local-ppob-token-change-me',
  // Any value turns the admin API on so its routes are documented; it is never used.
  ADMIN_API_KEY: 'openapi-document-placeholder-key',
  // Turns top-up orders on (POST /topups) so they are documented; nothing is ever sent there.
  PPOB_API_URL: 'http://127.0.0.1:1',
  PPOB_USERNAME: 'openapi-document-placeholder',
  PPOB_API_TOKEN: 'openapi-document-placeholder',
};

/** The project root (tests resolve the committed files from it). */
export { projectRoot };

/** The OpenAPI document the code describes, as the exact text to commit. */
export async function generateOpenApi(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-openapi-'));
  try {
    const config = loadConfig({
      ...DOCUMENT_ENVIRONMENT,
      SQLITE_PATH: join(dataDir, 'gateway.sqlite'),
    });
    const app = await createGateway(config);
    try {
      return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const file = resolve(projectRoot(), OPENAPI_FILE);
  const generated = await generateOpenApi();
  const committed = existsSync(file) ? readFileSync(file, 'utf8') : null;

  if (check) {
    if (committed === generated) {
      process.stdout.write(`${OPENAPI_FILE} is up to date.\n`);
      return 0;
    }
    process.stderr.write(
      `${OPENAPI_FILE} ${committed === null ? 'is missing' : 'differs from what the code generates'}: ` +
        'run `npm run openapi` and commit the result.\n',
    );
    return 1;
  }

  if (committed === generated) {
    process.stdout.write(`${OPENAPI_FILE} unchanged.\n`);
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, generated);
    process.stdout.write(`Wrote ${OPENAPI_FILE}.\n`);
  }
  return 0;
}

// Run only as a script, not when the test imports generateOpenApi.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `OpenAPI generation failed: ${(error as Error).stack ?? String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
