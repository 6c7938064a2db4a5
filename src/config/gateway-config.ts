import { resolve } from 'node:path';
import { splitList } from '../common/address-allowlist.js';
import { AccountRegistry, type ProvidersConfig } from './accounts.js';
import { readAccountsFile } from './accounts-file.js';
import { readOperatorsFile } from './operators-file.js';
import { ConfigurationError, validateEnvironment } from './environment.js';
import { buildProviders } from './provider-accounts.js';
import { amqpUrls, type QueueType } from './broker-settings.js';

const DEFAULT_AMQP_URL = 'amqp://guest:guest@localhost:5672';

export type {
  McpaymentInquirySettings,
  NicepayInquirySettings,
  ProvidersConfig,
  S88payInquirySettings,
} from './accounts.js';

/** PPOB server request API (signed with Gw-username / Gw-datetime / Gw-signature). */
export interface PpobApiSettings {
  url: string;
  username: string;
  token: string;
}

/** Sidopulsa request API (credentials in the query). */
export interface SidopulsaApiSettings {
  url: string;
  apiUser: string;
  apiKey: string;
}

/** Top-up orders placed with the providers' request APIs (docs/topups.md). */
export interface TopupsConfig {
  /** Durable queue the `topup.requested` commands arrive on. */
  commandsQueue: string;
  /** Where malformed commands go, with the reason: `<commandsQueue>.dead-letter`. */
  deadLetterQueue: string;
  requestTimeoutMs: number;
  /** How long a claimed order stays reserved for the instance placing it. */
  leaseMs: number;
  /** Requests in flight at once per (provider, account), per instance. */
  concurrencyPerAccount: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts without an answer before the order is abandoned (logged, counted, no event). */
  maxAttempts: number;
  pollIntervalMs: number;
  ppob: PpobApiSettings | null;
  sidopulsa: SidopulsaApiSettings | null;
}

/** True when at least one provider's request API is configured: commands are consumed then. */
export function topupsEnabled(topups: TopupsConfig): boolean {
  return topups.ppob !== null || topups.sidopulsa !== null;
}

/** Production keeps admin, metrics and docs off the callback port unless told to share it. */
function managementPort(vars: { NODE_ENV?: string; PORT?: number; MANAGEMENT_PORT?: number }) {
  const port = vars.MANAGEMENT_PORT ?? (vars.NODE_ENV === 'production' ? 9090 : null);
  return port === null || port === (vars.PORT ?? 3000) ? null : port;
}

export interface GatewayConfig {
  serviceName: string;
  environment: 'development' | 'production' | 'test';
  /** Address the HTTP server binds; 0.0.0.0 (every interface) unless HOST says otherwise. */
  host: string;
  port: number;
  /**
   * Port of the admin API, metrics, docs and console (same host); null: everything on `port`.
   * Production defaults to 9090, development and test to null; MANAGEMENT_PORT=PORT shares.
   */
  managementPort: number | null;
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
    | {
        type: 'postgres';
        url: string;
        poolSize: number;
        /** Named prepared statements for the hot path's batched writes (off behind a pooler without them). */
        preparedStatements?: boolean;
        runMigrations: boolean;
        /** Pool timeouts (database.options.ts POOL_DEFAULTS when absent): a hung primary costs seconds. */
        connectTimeoutMs?: number;
        statementTimeoutMs?: number;
        idleInTransactionTimeoutMs?: number;
        keepAliveDelayMs?: number;
      }
    | { type: 'better-sqlite3'; path: string; runMigrations: boolean };
  amqp: {
    /** The first of `urls` (developer commands connect there). */
    url: string;
    /** Every broker URL of AMQP_URL; the gateway fails over between them. */
    urls: string[];
    exchange: string;
    publishTimeoutMs: number;
    /** Type of every queue the gateway declares (holding, command and dead-letter queues). */
    queueType: QueueType;
  };
  outbox: { sweepIntervalMs: number; batchSize: number; leaseMs: number };
  /**
   * Personal data in published events (EVENTS_PERSONAL_DATA): `mask` (default) or `publish`
   * (opt-in, for a deployment whose every consumer may process it). See docs/security.md.
   */
  events?: { personalData: 'mask' | 'publish' };
  /**
   * Admin API under /admin and the console; null (those paths answer 404) when neither
   * ADMIN_API_KEY nor OPERATORS_FILE is set. docs/console.md#operators.
   */
  admin: {
    /** The shared key: operator `admin`, role operator. */
    apiKey: string | null;
    /** Named operators (OPERATORS_FILE), re-read on change and SIGHUP. */
    operatorsFile: string | null;
    /** OPERATOR_IDENTITY_HEADER: the operator's name, believed only from TRUSTED_PROXIES. */
    identityHeader: string | null;
  } | null;
  /** Signing helpers for testers (POST /dev/sign/:provider); never on when NODE_ENV=production. */
  devTools: { enabled: boolean };
  retention: { acceptedDays: number; rejectedDays: number; intervalMinutes: number };
  /** Status inquiry after the ack, and reconciliation of transactions left pending. */
  verification: {
    retryMaxSeconds: number;
    concurrency: number;
    /** Inquiries per second per (provider, account). */
    ratePerSecond: number;
    /** Re-asks after a claim the provider contradicted, seconds after each answer (bounded). */
    recheckSeconds: number[];
    /** Answers lacking a fact the event needs before the hints are held for an operator. */
    incompleteAttempts: number;
    /**
     * Expected payments: the interval between inquiries (a quarter of the time left, within these),
     * and the queue of `payment.expected` commands (null: no consumer) with its dead-letter queue.
     */
    expected: {
      minIntervalSeconds: number;
      maxIntervalSeconds: number;
      commandsQueue: string | null;
      deadLetterQueue: string;
    };
    reconcile: { afterSeconds: number; maxAgeHours: number; intervalSeconds: number };
  };
  /** The local provider sandbox (npm run sandbox); `embedded` runs it inside the gateway (development). */
  sandbox: { port: number; embedded: boolean };
  /** The merchant accounts; replaced whole when ACCOUNTS_FILE is reloaded. */
  accounts: AccountRegistry;
  /** The accounts in force now (`accounts.current`). */
  readonly providers: ProvidersConfig;
  /**
   * Rejected-attempt records: how much of a refused body is kept, and how many records one
   * source address and all of them together may write per minute (the rest are counted only).
   */
  rejectedAttempts: { bodyBytes: number; perSourcePerMinute: number; perMinute: number };
  topups: TopupsConfig;
}

/** Three settings that only work together: all set, or none. */
function triple<T>(
  problems: string[],
  names: [string, string, string],
  values: [string | undefined, string | undefined, string | undefined],
  build: (a: string, b: string, c: string) => T,
): T | null {
  const missing = names.filter((_, i) => values[i] === undefined);
  if (missing.length === 3) return null;
  if (missing.length > 0) {
    problems.push(`${names.join(', ')} must be set together (${missing.join(', ')} missing)`);
    return null;
  }
  return build(values[0]!, values[1]!, values[2]!);
}

function adminConfig(
  vars: ReturnType<typeof validateEnvironment>,
  problems: string[],
): GatewayConfig['admin'] {
  const operatorsFile = vars.OPERATORS_FILE ? resolve(vars.OPERATORS_FILE) : null;
  if (operatorsFile) problems.push(...readOperatorsFile(operatorsFile).problems);
  if (vars.OPERATOR_IDENTITY_HEADER && !operatorsFile)
    problems.push('OPERATOR_IDENTITY_HEADER needs OPERATORS_FILE (it names who may sign in)');
  if (!vars.ADMIN_API_KEY && !operatorsFile) return null;
  return {
    apiKey: vars.ADMIN_API_KEY ?? null,
    operatorsFile,
    identityHeader: vars.OPERATOR_IDENTITY_HEADER?.toLowerCase() ?? null,
  };
}

/**
 * Reads and validates the gateway configuration from an environment map. Throws a
 * ConfigurationError naming every variable that is wrong, so the process can refuse to start.
 */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const vars = validateEnvironment(env);
  const problems: string[] = [];

  const accountsFile = vars.ACCOUNTS_FILE ? resolve(vars.ACCOUNTS_FILE) : null;
  const readProviders = (found: string[]): ProvidersConfig => {
    const read = accountsFile
      ? readAccountsFile(accountsFile)
      : { file: null, sections: new Map(), problems: [] };
    found.push(...read.problems);
    return buildProviders(found, vars, read.file, accountsFile ?? 'ACCOUNTS_FILE', read.sections);
  };
  const accounts = new AccountRegistry(readProviders(problems), accountsFile, () => {
    const found: string[] = [];
    const providers = readProviders(found);
    if (found.length > 0) throw new ConfigurationError(found);
    return providers;
  });
  if (vars.DEV_TOOLS_ENABLED && vars.NODE_ENV === 'production') {
    problems.push('DEV_TOOLS_ENABLED must not be true when NODE_ENV is production');
  }
  if (vars.SANDBOX_EMBEDDED && vars.NODE_ENV === 'production') {
    problems.push('SANDBOX_EMBEDDED must not be true when NODE_ENV is production');
  }
  const ppobApi = triple(
    problems,
    ['PPOB_API_URL', 'PPOB_USERNAME', 'PPOB_API_TOKEN'],
    [vars.PPOB_API_URL, vars.PPOB_USERNAME, vars.PPOB_API_TOKEN],
    (url, username, token) => ({ url: url.replace(/\/+$/, ''), username, token }),
  );
  const sidopulsaApi = triple(
    problems,
    ['SIDOPULSA_API_URL', 'SIDOPULSA_API_USER', 'SIDOPULSA_API_KEY'],
    [vars.SIDOPULSA_API_URL, vars.SIDOPULSA_API_USER, vars.SIDOPULSA_API_KEY],
    (url, apiUser, apiKey) => ({ url: url.replace(/\/+$/, ''), apiUser, apiKey }),
  );
  const requestTimeoutMs = vars.TOPUP_REQUEST_TIMEOUT_MS ?? 10_000;
  const topupLeaseMs = vars.TOPUP_LEASE_MS ?? 30_000;
  if (topupLeaseMs <= requestTimeoutMs) {
    // A lease shorter than a request would let another replica send the same order meanwhile.
    problems.push(
      `TOPUP_LEASE_MS (${topupLeaseMs}) must be longer than TOPUP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  const commandsQueue = vars.TOPUP_COMMANDS_QUEUE ?? 'payments.topup.requests';
  const expectedQueue = vars.EXPECTED_COMMANDS_QUEUE ?? 'payments.payment.expected';

  const runMigrations = vars.DATABASE_MIGRATIONS_RUN ?? true;
  return {
    serviceName: vars.SERVICE_NAME ?? 'payment-callback-gateway',
    environment: (vars.NODE_ENV as GatewayConfig['environment'] | undefined) ?? 'development',
    host: (vars.HOST ?? '0.0.0.0').replace(/^\[(.*)\]$/, '$1'),
    port: vars.PORT ?? 3000,
    managementPort: managementPort(vars),
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
          preparedStatements: vars.DATABASE_PREPARED_STATEMENTS ?? true,
          runMigrations,
          connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
          statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
          idleInTransactionTimeoutMs: vars.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
          keepAliveDelayMs: vars.DATABASE_KEEPALIVE_DELAY_MS,
        }
      : {
          type: 'better-sqlite3',
          path: resolve(vars.SQLITE_PATH ?? 'data/gateway.sqlite'),
          runMigrations,
        },
    amqp: {
      url: amqpUrls(vars.AMQP_URL ?? DEFAULT_AMQP_URL)[0],
      urls: amqpUrls(vars.AMQP_URL ?? DEFAULT_AMQP_URL),
      exchange: vars.EVENTS_EXCHANGE ?? 'payments.events',
      publishTimeoutMs: vars.PUBLISH_TIMEOUT_MS ?? 10_000,
      queueType: vars.QUEUE_TYPE ?? 'quorum',
    },
    events: { personalData: vars.EVENTS_PERSONAL_DATA ?? 'mask' },
    outbox: {
      sweepIntervalMs: vars.OUTBOX_SWEEP_INTERVAL_MS ?? 2_000,
      batchSize: vars.OUTBOX_BATCH_SIZE ?? 200,
      leaseMs: vars.OUTBOX_LEASE_MS ?? 15_000,
    },
    admin: adminConfig(vars, problems),
    devTools: { enabled: vars.DEV_TOOLS_ENABLED ?? false },
    retention: {
      acceptedDays: vars.CALLBACK_RETENTION_DAYS ?? 90,
      rejectedDays: vars.REJECTED_RETENTION_DAYS ?? 14,
      intervalMinutes: vars.RETENTION_INTERVAL_MINUTES ?? 60,
    },
    verification: {
      retryMaxSeconds: vars.VERIFY_RETRY_MAX_SECONDS ?? 30,
      concurrency: vars.VERIFY_CONCURRENCY ?? 16,
      ratePerSecond: vars.VERIFY_RATE_PER_SECOND ?? 50,
      recheckSeconds: (vars.VERIFY_RECHECK_SECONDS ?? '30,120,600,1800,7200')
        .split(',')
        .map((part) => Number(part.trim())),
      incompleteAttempts: vars.VERIFY_INCOMPLETE_ATTEMPTS ?? 5,
      expected: {
        commandsQueue: expectedQueue === 'off' ? null : expectedQueue,
        deadLetterQueue: `${expectedQueue}.dead-letter`,
        minIntervalSeconds: vars.EXPECTED_MIN_INTERVAL_SECONDS ?? 30,
        maxIntervalSeconds: Math.max(
          vars.EXPECTED_MAX_INTERVAL_SECONDS ?? 900,
          vars.EXPECTED_MIN_INTERVAL_SECONDS ?? 30,
        ),
      },
      reconcile: {
        afterSeconds: vars.RECONCILE_AFTER_SECONDS ?? 900,
        maxAgeHours: vars.RECONCILE_MAX_AGE_HOURS ?? 72,
        intervalSeconds: vars.RECONCILE_INTERVAL_SECONDS ?? 60,
      },
    },
    sandbox: { port: vars.SANDBOX_PORT ?? 4010, embedded: vars.SANDBOX_EMBEDDED ?? false },
    rejectedAttempts: {
      bodyBytes: vars.REJECTED_BODY_BYTES ?? 1024,
      perSourcePerMinute: vars.REJECTED_PER_SOURCE_PER_MINUTE ?? 20,
      perMinute: vars.REJECTED_PER_MINUTE ?? 600,
    },
    accounts,
    get providers() {
      return accounts.current;
    },
    topups: {
      commandsQueue,
      deadLetterQueue: `${commandsQueue}.dead-letter`,
      requestTimeoutMs,
      leaseMs: topupLeaseMs,
      concurrencyPerAccount: vars.TOPUP_CONCURRENCY_PER_ACCOUNT ?? 4,
      retryBaseMs: vars.TOPUP_RETRY_BASE_MS ?? 1_000,
      retryMaxMs: vars.TOPUP_RETRY_MAX_MS ?? 60_000,
      maxAttempts: vars.TOPUP_MAX_ATTEMPTS ?? 20,
      pollIntervalMs: vars.TOPUP_POLL_INTERVAL_MS ?? 1_000,
      ppob: ppobApi,
      sidopulsa: sidopulsaApi,
    },
  };
}

/** Nest injection token for the validated GatewayConfig. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
