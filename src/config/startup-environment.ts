import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { providerSections } from './accounts.js';
import { ConfigurationError } from './environment.js';
import { type GatewayConfig, loadConfig } from './gateway-config.js';

/** Where the settings a process runs with came from (printed by the start-up banner). */
export type ConfigurationSource = 'environment' | '.env' | 'demo';

export interface StartupEnvironment {
  env: Record<string, string | undefined>;
  source: ConfigurationSource;
  /** The file the settings were read from, when one was. */
  file: string | null;
  /** What start-up changed in the settings and why (printed after the banner). */
  notes?: string[];
}

/** Loopback addresses: the only ones the demo may listen on. */
export function isLoopbackHost(host: string): boolean {
  return /^(127(\.\d{1,3}){3}|::1|\[::1\]|localhost)$/i.test(host.trim());
}

/**
 * Settings the demo adds on top of `.env.example`: it publishes its keys and turns every
 * address check off, so it listens on loopback only whatever `.env.example` says.
 */
export const DEMO_OVERRIDES: Readonly<Record<string, string>> = {
  HOST: '127.0.0.1',
  // The provider sandbox runs inside the gateway, so status inquiries have a provider to ask.
  SANDBOX_EMBEDDED: 'true',
};

/**
 * The demo's provider API URLs point at the sandbox (`http://localhost:<SANDBOX_PORT>` in
 * .env.example); a SANDBOX_PORT set in the environment moves them along with it.
 */
function followSandboxPort(
  demo: Record<string, string>,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const port = env.SANDBOX_PORT;
  if (!port || !demo.SANDBOX_PORT || port === demo.SANDBOX_PORT) return demo;
  const sandboxUrl = `http://localhost:${demo.SANDBOX_PORT}`;
  const moved = Object.fromEntries(
    Object.entries(demo).map(([name, value]) => [
      name,
      value === sandboxUrl ? `http://localhost:${port}` : value,
    ]),
  );
  // The demo's SNAP status API URL is in its accounts file: a copy with the URL moved.
  if (moved.ACCOUNTS_FILE && existsSync(moved.ACCOUNTS_FILE)) {
    const copy = join(tmpdir(), `gateway-demo-accounts-${port}.yaml`);
    writeFileSync(
      copy,
      readFileSync(moved.ACCOUNTS_FILE, 'utf8').replaceAll(sandboxUrl, `http://localhost:${port}`),
    );
    moved.ACCOUNTS_FILE = copy;
  }
  return moved;
}

/** The checkout (or image) root: the first directory above this file with a package.json. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** The demo's accounts file: one SNAP account per shipped profile, played by the sandbox. */
export const DEMO_ACCOUNTS_FILE = 'demo/snap-accounts.yaml';

/**
 * The demo configuration: `.env.example` of the checkout plus DEMO_OVERRIDES, and the demo's
 * accounts file when the checkout has it (SNAP accounts exist only in an accounts file); null
 * without `.env.example`.
 */
export function demoEnvironment(): Record<string, string> | null {
  const file = join(projectRoot(), '.env.example');
  if (!existsSync(file)) return null;
  const values = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  const accounts = join(projectRoot(), DEMO_ACCOUNTS_FILE);
  return {
    ...values,
    ...(existsSync(accounts) ? { ACCOUNTS_FILE: accounts } : {}),
    ...DEMO_OVERRIDES,
  };
}

/** True when the environment enables at least one provider (else every callback route is 404). */
function configuresAProvider(env: Record<string, string | undefined>): boolean {
  try {
    return [...providerSections(loadConfig(env).providers).values()].some(
      (provider) => provider !== null,
    );
  } catch {
    // Invalid settings are configuration too: the caller's loadConfig reports them.
    return true;
  }
}

/**
 * The environment a gateway process (or a developer command next to it) runs with:
 * - `NODE_ENV=production`: the real environment only; no file is ever read.
 * - otherwise, a `.env` in the working directory fills what the environment leaves unset;
 * - in development (NODE_ENV unset or `development`) with no `.env` and no provider configured, the
 *   demo configuration does the same (real variables still win: PORT, AMQP_URL, DATABASE_URL, …),
 *   so `npm start` on a fresh clone is a working demo instead of a gateway that answers 404.
 */
export function startupEnvironment(
  processEnv: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): StartupEnvironment {
  const mode = processEnv.NODE_ENV;
  if (mode === 'production') return { env: { ...processEnv }, source: 'environment', file: null };
  const dotEnv = resolve(cwd, '.env');
  if (existsSync(dotEnv)) {
    const values = parseEnv(readFileSync(dotEnv, 'utf8')) as Record<string, string>;
    if (values.NODE_ENV === 'production' && mode === undefined) {
      // Production is configured by its environment only: a file must not switch to it.
      throw new ConfigurationError([
        `NODE_ENV=production is set in ${dotEnv}: set it in the environment instead (no .env is read in production)`,
      ]);
    }
    return { env: { ...values, ...definedOnly(processEnv) }, source: '.env', file: dotEnv };
  }
  if (
    (mode === undefined || mode === '' || mode === 'development') &&
    !configuresAProvider(processEnv)
  ) {
    const demo = demoEnvironment();
    if (demo) {
      const env = { ...followSandboxPort(demo, processEnv), ...definedOnly(processEnv) };
      // The demo publishes its admin key and signs anything at /dev/sign: it never listens
      // beyond this machine, whatever HOST says. Real settings (a .env, NODE_ENV) lift this.
      const notes: string[] = [];
      if (!isLoopbackHost(env.HOST ?? '')) {
        notes.push(
          `HOST=${env.HOST} ignored: the demo configuration publishes its admin key and signing tools, so it listens on ${DEMO_OVERRIDES.HOST} only. Configure the gateway (.env or environment) to listen elsewhere.`,
        );
        env.HOST = DEMO_OVERRIDES.HOST;
      }
      return { env, source: 'demo', file: join(projectRoot(), '.env.example'), notes };
    }
  }
  return { env: { ...processEnv }, source: 'environment', file: null };
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** The URL this machine reaches the gateway on (loopback when it listens on every interface). */
export function localUrl(config: Pick<GatewayConfig, 'host' | 'port'>): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}
