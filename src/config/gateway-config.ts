import { resolve } from 'node:path';
import { AddressAllowlist, splitList } from '../common/address-allowlist.js';
import { NICEPAY_PUBLISHED_ADDRESSES } from '../providers/nicepay/nicepay.facts.js';
import { ConfigurationError, validateEnvironment } from './environment.js';

export interface NicepayMerchant {
  iMid: string;
  merchantKey: string;
}

export interface TokenAndAllowlist {
  /** Unset when only the URL token protects the endpoint. */
  allowlist: AddressAllowlist | null;
  /** Unset when only the address allowlist protects the endpoint. */
  token: string | null;
}

export interface ProvidersConfig {
  s88pay: { apiKey: string; secretKey: string } | null;
  mcpayment: { hashKey: string; subMerchantId: string | null } | null;
  nicepay: { merchants: NicepayMerchant[]; allowlist: AddressAllowlist } | null;
  sidopulsa: TokenAndAllowlist | null;
  ppob: TokenAndAllowlist | null;
}

export interface GatewayConfig {
  serviceName: string;
  environment: 'development' | 'production' | 'test';
  port: number;
  logLevel: string;
  http: {
    bodyLimit: string;
    trustedProxies: string[];
    docsEnabled: boolean;
    shutdownTimeoutMs: number;
    /** Failed authentications one address may make per window before it is refused with 429. */
    authFailureLimit: number;
    authFailureWindowMs: number;
  };
  database:
    | { type: 'postgres'; url: string; poolSize: number; runMigrations: boolean }
    | { type: 'better-sqlite3'; path: string; runMigrations: boolean };
  amqp: { url: string; exchange: string; publishTimeoutMs: number };
  outbox: { sweepIntervalMs: number; batchSize: number; leaseMs: number };
  /** Admin API under /admin; null (the API answers 404) when ADMIN_API_KEY is unset. */
  admin: { apiKey: string } | null;
  /** Signing helpers for testers (POST /dev/sign/:provider); never on when NODE_ENV=production. */
  devTools: { enabled: boolean };
  retention: { acceptedDays: number; rejectedDays: number; intervalMinutes: number };
  providers: ProvidersConfig;
}

function pair<T>(
  problems: string[],
  names: [string, string],
  values: [string | undefined, string | undefined],
  build: (a: string, b: string) => T,
): T | null {
  const [a, b] = values;
  if (a === undefined && b === undefined) return null;
  if (a === undefined || b === undefined) {
    problems.push(
      `${names[0]} and ${names[1]} must be set together (only ${a === undefined ? names[1] : names[0]} is set)`,
    );
    return null;
  }
  return build(a, b);
}

function nicepayMerchants(problems: string[], imids: string, keys: string): NicepayMerchant[] {
  const ids = splitList(imids);
  const keyList = splitList(keys);
  if (keyList.length === 1) return ids.map((iMid) => ({ iMid, merchantKey: keyList[0] }));
  if (keyList.length === ids.length)
    return ids.map((iMid, i) => ({ iMid, merchantKey: keyList[i] }));
  problems.push(
    `NICEPAY_MERCHANT_KEY must be one key shared by every NICEPAY_IMID or a comma list with one key per iMid (${ids.length} iMids, ${keyList.length} keys)`,
  );
  return [];
}

function tokenAndAllowlist(
  allowed: string | undefined,
  token: string | undefined,
): TokenAndAllowlist | null {
  if (allowed === undefined && token === undefined) return null;
  return {
    allowlist: allowed === undefined ? null : new AddressAllowlist(splitList(allowed)),
    token: token ?? null,
  };
}

/**
 * Reads and validates the gateway configuration from an environment map. Throws a
 * ConfigurationError naming every variable that is wrong, so the process can refuse to start.
 */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const vars = validateEnvironment(env);
  const problems: string[] = [];

  const s88pay = pair(
    problems,
    ['S88PAY_API_KEY', 'S88PAY_SECRET_KEY'],
    [vars.S88PAY_API_KEY, vars.S88PAY_SECRET_KEY],
    (apiKey, secretKey) => ({ apiKey, secretKey }),
  );
  const nicepay = pair(
    problems,
    ['NICEPAY_IMID', 'NICEPAY_MERCHANT_KEY'],
    [vars.NICEPAY_IMID, vars.NICEPAY_MERCHANT_KEY],
    (imids, keys) => ({
      merchants: nicepayMerchants(problems, imids, keys),
      allowlist: new AddressAllowlist(
        vars.NICEPAY_ALLOWED_IPS
          ? splitList(vars.NICEPAY_ALLOWED_IPS)
          : NICEPAY_PUBLISHED_ADDRESSES,
      ),
    }),
  );
  if (vars.DEV_TOOLS_ENABLED && vars.NODE_ENV === 'production') {
    problems.push('DEV_TOOLS_ENABLED must not be true when NODE_ENV is production');
  }
  if (vars.MCPAYMENT_SUB_MERCHANT_ID && !vars.MCPAYMENT_HASH_KEY) {
    problems.push('MCPAYMENT_SUB_MERCHANT_ID is set but MCPAYMENT_HASH_KEY is not');
  }
  if (problems.length > 0) throw new ConfigurationError(problems);

  const runMigrations = vars.DATABASE_MIGRATIONS_RUN ?? true;
  return {
    serviceName: vars.SERVICE_NAME ?? 'payment-callback-gateway',
    environment: (vars.NODE_ENV as GatewayConfig['environment'] | undefined) ?? 'development',
    port: vars.PORT ?? 3000,
    logLevel: vars.LOG_LEVEL ?? 'info',
    http: {
      bodyLimit: vars.BODY_LIMIT ?? '64kb',
      trustedProxies: splitList(vars.TRUSTED_PROXIES),
      docsEnabled: vars.DOCS_ENABLED ?? true,
      shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS ?? 20_000,
      authFailureLimit: vars.AUTH_FAILURE_LIMIT ?? 30,
      authFailureWindowMs: vars.AUTH_FAILURE_WINDOW_MS ?? 60_000,
    },
    database: vars.DATABASE_URL
      ? {
          type: 'postgres',
          url: vars.DATABASE_URL,
          poolSize: vars.DATABASE_POOL_SIZE ?? 10,
          runMigrations,
        }
      : {
          type: 'better-sqlite3',
          path: resolve(vars.SQLITE_PATH ?? 'data/gateway.sqlite'),
          runMigrations,
        },
    amqp: {
      url: vars.AMQP_URL ?? 'amqp://guest:guest@localhost:5672',
      exchange: vars.EVENTS_EXCHANGE ?? 'payments.events',
      publishTimeoutMs: vars.PUBLISH_TIMEOUT_MS ?? 10_000,
    },
    outbox: {
      sweepIntervalMs: vars.OUTBOX_SWEEP_INTERVAL_MS ?? 2_000,
      batchSize: vars.OUTBOX_BATCH_SIZE ?? 200,
      leaseMs: vars.OUTBOX_LEASE_MS ?? 15_000,
    },
    admin: vars.ADMIN_API_KEY ? { apiKey: vars.ADMIN_API_KEY } : null,
    devTools: { enabled: vars.DEV_TOOLS_ENABLED ?? false },
    retention: {
      acceptedDays: vars.CALLBACK_RETENTION_DAYS ?? 90,
      rejectedDays: vars.REJECTED_RETENTION_DAYS ?? 14,
      intervalMinutes: vars.RETENTION_INTERVAL_MINUTES ?? 60,
    },
    providers: {
      s88pay,
      mcpayment: vars.MCPAYMENT_HASH_KEY
        ? {
            hashKey: vars.MCPAYMENT_HASH_KEY,
            subMerchantId: vars.MCPAYMENT_SUB_MERCHANT_ID ?? null,
          }
        : null,
      nicepay,
      sidopulsa: tokenAndAllowlist(vars.SIDOPULSA_ALLOWED_IPS, vars.SIDOPULSA_CALLBACK_TOKEN),
      ppob: tokenAndAllowlist(vars.PPOB_ALLOWED_IPS, vars.PPOB_CALLBACK_TOKEN),
    },
  };
}

/** Nest injection token for the validated GatewayConfig. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
