import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { isAddressList } from '../common/address-allowlist.js';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === ''
    ? undefined
    : /^-?\d+$/.test(String(value))
      ? Number(value)
      : value;
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const text = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  return value;
};
const emptyToUndefined = ({ value }: { value: unknown }) =>
  value === undefined || String(value).trim() === '' ? undefined : String(value).trim();

function IsAddressList(): PropertyDecorator {
  return ValidateBy({
    name: 'isAddressList',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isAddressList(value),
      defaultMessage: (args) =>
        `${args?.property} must be a comma list of IP addresses or CIDR ranges, or *`,
    },
  });
}
const SIZE = /^\d+(b|kb|mb)?$/i;
const HTTP_URL = /^https?:\/\/[^\s/?#]+[^\s?#]*$/;

/** `<PROVIDER>_VERIFY`: ask the provider's status API before publishing, or not. */
export const VERIFY_MODES = ['inquiry', 'off'];

function IsHttpUrl(): PropertyDecorator {
  return ValidateBy({
    name: 'isHttpUrl',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search;
        } catch {
          return false;
        }
      },
      defaultMessage: (args) =>
        `${args?.property} must be an http:// or https:// base URL without a query`,
    },
  });
}

/**
 * Every environment variable the gateway reads, with its validation rule. `loadConfig` turns a
 * validated instance into the typed `GatewayConfig` the rest of the code uses.
 */
export class EnvironmentVariables {
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(?:[\w.-]+|\[?[0-9a-fA-F:]+\]?)$/, {
    message: 'HOST must be an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0',
  })
  HOST?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  /** Admin API, metrics, docs and console on their own port (docs/operations.md#ports). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  MANAGEMENT_PORT?: number;

  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @Matches(/^[\w.-]+$/, {
    message: 'SERVICE_NAME must be letters, digits, dots, dashes or underscores',
  })
  SERVICE_NAME?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\/.+/, {
    message: 'DATABASE_URL must be a postgres:// or postgresql:// URL',
  })
  DATABASE_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  SQLITE_PATH?: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  DATABASE_MIGRATIONS_RUN?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  DATABASE_PREPARED_STATEMENTS?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  DATABASE_CONNECT_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DATABASE_STATEMENT_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  DATABASE_KEEPALIVE_DELAY_MS?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  // One URL, or several separated by commas (the nodes of a cluster): tried in turn.
  @Matches(/^\s*amqps?:\/\/[^,\s]+(\s*,\s*amqps?:\/\/[^,\s]+)*\s*$/, {
    message: 'AMQP_URL must be an amqp:// or amqps:// URL, or several separated by commas',
  })
  AMQP_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['quorum', 'classic'], { message: 'QUEUE_TYPE must be quorum or classic' })
  QUEUE_TYPE?: 'quorum' | 'classic';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[\w.:-]+$/, {
    message: 'EVENTS_EXCHANGE must be letters, digits, dots, colons, dashes or underscores',
  })
  EVENTS_EXCHANGE?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['mask', 'publish'], { message: 'EVENTS_PERSONAL_DATA must be mask or publish' })
  EVENTS_PERSONAL_DATA?: 'mask' | 'publish';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(SIZE, { message: 'BODY_LIMIT must be a size such as 65536, 64kb or 1mb' })
  BODY_LIMIT?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsAddressList()
  TRUSTED_PROXIES?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(3_600_000)
  OUTBOX_SWEEP_INTERVAL_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  OUTBOX_BATCH_SIZE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  OUTBOX_LEASE_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  PUBLISH_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  DOCS_ENABLED?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  AUTH_FAILURE_LIMIT?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(86_400_000)
  AUTH_FAILURE_WINDOW_MS?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(24, { message: 'ADMIN_API_KEY must be at least 24 characters' })
  ADMIN_API_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  OPERATORS_FILE?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9-]{1,64}$/, {
    message: 'OPERATOR_IDENTITY_HEADER must be a header name, e.g. X-Forwarded-User',
  })
  OPERATOR_IDENTITY_HEADER?: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  DEV_TOOLS_ENABLED?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  CALLBACK_RETENTION_DAYS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  REJECTED_RETENTION_DAYS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(16_384)
  REJECTED_BODY_BYTES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000)
  REJECTED_PER_SOURCE_PER_MINUTE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  REJECTED_PER_MINUTE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1440)
  RETENTION_INTERVAL_MINUTES?: number;

  /** YAML or JSON file of merchant accounts (docs/accounts.md); re-read on change and SIGHUP. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  ACCOUNTS_FILE?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  S88PAY_API_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  S88PAY_SECRET_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  MCPAYMENT_HASH_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  MCPAYMENT_SUB_MERCHANT_ID?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[\w-]+(\s*,\s*[\w-]+)*$/, {
    message: 'NICEPAY_IMID must be a comma list of merchant ids',
  })
  NICEPAY_IMID?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  NICEPAY_MERCHANT_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsAddressList()
  NICEPAY_ALLOWED_IPS?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsHttpUrl()
  NICEPAY_API_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(VERIFY_MODES, { message: `NICEPAY_VERIFY must be one of ${VERIFY_MODES.join(', ')}` })
  NICEPAY_VERIFY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsHttpUrl()
  MCPAYMENT_API_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  MCPAYMENT_MERCHANT_ID?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  MCPAYMENT_SECRET_UNBOUND_ID?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(VERIFY_MODES, { message: `MCPAYMENT_VERIFY must be one of ${VERIFY_MODES.join(', ')}` })
  MCPAYMENT_VERIFY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsHttpUrl()
  S88PAY_API_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9_-]+$/, {
    message: 'S88PAY_MERCHANT_CODE must be letters, digits, dashes or underscores',
  })
  S88PAY_MERCHANT_CODE?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(VERIFY_MODES, { message: `S88PAY_VERIFY must be one of ${VERIFY_MODES.join(', ')}` })
  S88PAY_VERIFY?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  VERIFY_RETRY_MAX_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  VERIFY_CONCURRENCY?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  VERIFY_RATE_PER_SECOND?: number;

  @IsOptional()
  @Matches(/^\s*\d{1,6}\s*(,\s*\d{1,6}\s*){0,19}$/, {
    message:
      'VERIFY_RECHECK_SECONDS must be a comma-separated list of at most 20 whole numbers of seconds (e.g. 30,120,600)',
  })
  VERIFY_RECHECK_SECONDS?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  VERIFY_INCOMPLETE_ATTEMPTS?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[\w.:-]{1,200}$/, {
    message:
      'EXPECTED_COMMANDS_QUEUE must be letters, digits, dots, colons, dashes or underscores (off: no command consumer)',
  })
  EXPECTED_COMMANDS_QUEUE?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  EXPECTED_MIN_INTERVAL_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  EXPECTED_MAX_INTERVAL_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400 * 30)
  RECONCILE_AFTER_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  RECONCILE_MAX_AGE_HOURS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  RECONCILE_INTERVAL_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  SANDBOX_PORT?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  SANDBOX_EMBEDDED?: boolean;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsAddressList()
  SIDOPULSA_ALLOWED_IPS?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9._~-]{16,}$/, {
    message:
      'SIDOPULSA_CALLBACK_TOKEN must be at least 16 URL-safe characters (A-Z a-z 0-9 . _ ~ -)',
  })
  SIDOPULSA_CALLBACK_TOKEN?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsAddressList()
  PPOB_ALLOWED_IPS?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9._~-]{16,}$/, {
    message: 'PPOB_CALLBACK_TOKEN must be at least 16 URL-safe characters (A-Z a-z 0-9 . _ ~ -)',
  })
  PPOB_CALLBACK_TOKEN?: string;

  // --- Top-up orders (docs/topups.md) ---

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(HTTP_URL, { message: 'PPOB_API_URL must be an http:// or https:// URL' })
  PPOB_API_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  PPOB_USERNAME?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  PPOB_API_TOKEN?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(HTTP_URL, { message: 'SIDOPULSA_API_URL must be an http:// or https:// URL' })
  SIDOPULSA_API_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  SIDOPULSA_API_USER?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1)
  SIDOPULSA_API_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[\w.:-]{1,200}$/, {
    message: 'TOPUP_COMMANDS_QUEUE must be letters, digits, dots, colons, dashes or underscores',
  })
  TOPUP_COMMANDS_QUEUE?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  TOPUP_REQUEST_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(500)
  @Max(3_600_000)
  TOPUP_LEASE_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  TOPUP_CONCURRENCY_PER_ACCOUNT?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(3_600_000)
  TOPUP_RETRY_BASE_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  TOPUP_RETRY_MAX_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  TOPUP_MAX_ATTEMPTS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(600_000)
  TOPUP_POLL_INTERVAL_MS?: number;
}

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigurationError';
  }
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? message : `${error.property} ${message}`,
    ),
  );
}

/** Validates the raw environment; throws a ConfigurationError naming every bad variable. */
export function validateEnvironment(env: Record<string, string | undefined>): EnvironmentVariables {
  const known = Object.fromEntries(ENVIRONMENT_VARIABLE_NAMES.map((key) => [key, env[key]]));
  const instance = plainToInstance(EnvironmentVariables, known);
  const errors = validateSync(instance, { skipMissingProperties: false });
  if (errors.length > 0) throw new ConfigurationError(describe(errors));
  return instance;
}

export const ENVIRONMENT_VARIABLE_NAMES = [
  'HOST',
  'PORT',
  'MANAGEMENT_PORT',
  'NODE_ENV',
  'LOG_LEVEL',
  'SERVICE_NAME',
  'DATABASE_URL',
  'SQLITE_PATH',
  'DATABASE_MIGRATIONS_RUN',
  'DATABASE_POOL_SIZE',
  'DATABASE_PREPARED_STATEMENTS',
  'DATABASE_CONNECT_TIMEOUT_MS',
  'DATABASE_STATEMENT_TIMEOUT_MS',
  'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  'DATABASE_KEEPALIVE_DELAY_MS',
  'AMQP_URL',
  'QUEUE_TYPE',
  'EVENTS_EXCHANGE',
  'EVENTS_PERSONAL_DATA',
  'BODY_LIMIT',
  'TRUSTED_PROXIES',
  'OUTBOX_SWEEP_INTERVAL_MS',
  'OUTBOX_BATCH_SIZE',
  'OUTBOX_LEASE_MS',
  'PUBLISH_TIMEOUT_MS',
  'DOCS_ENABLED',
  'SHUTDOWN_TIMEOUT_MS',
  'AUTH_FAILURE_LIMIT',
  'AUTH_FAILURE_WINDOW_MS',
  'ADMIN_API_KEY',
  'OPERATORS_FILE',
  'OPERATOR_IDENTITY_HEADER',
  'DEV_TOOLS_ENABLED',
  'CALLBACK_RETENTION_DAYS',
  'REJECTED_RETENTION_DAYS',
  'REJECTED_BODY_BYTES',
  'REJECTED_PER_SOURCE_PER_MINUTE',
  'REJECTED_PER_MINUTE',
  'RETENTION_INTERVAL_MINUTES',
  'ACCOUNTS_FILE',
  'S88PAY_API_KEY',
  'S88PAY_SECRET_KEY',
  'MCPAYMENT_HASH_KEY',
  'MCPAYMENT_SUB_MERCHANT_ID',
  'NICEPAY_IMID',
  'NICEPAY_MERCHANT_KEY',
  'NICEPAY_ALLOWED_IPS',
  'NICEPAY_API_URL',
  'NICEPAY_VERIFY',
  'MCPAYMENT_API_URL',
  'MCPAYMENT_MERCHANT_ID',
  'MCPAYMENT_SECRET_UNBOUND_ID',
  'MCPAYMENT_VERIFY',
  'S88PAY_API_URL',
  'S88PAY_MERCHANT_CODE',
  'S88PAY_VERIFY',
  'VERIFY_RETRY_MAX_SECONDS',
  'VERIFY_CONCURRENCY',
  'VERIFY_RATE_PER_SECOND',
  'VERIFY_RECHECK_SECONDS',
  'VERIFY_INCOMPLETE_ATTEMPTS',
  'EXPECTED_COMMANDS_QUEUE',
  'EXPECTED_MIN_INTERVAL_SECONDS',
  'EXPECTED_MAX_INTERVAL_SECONDS',
  'RECONCILE_AFTER_SECONDS',
  'RECONCILE_MAX_AGE_HOURS',
  'RECONCILE_INTERVAL_SECONDS',
  'SANDBOX_PORT',
  'SANDBOX_EMBEDDED',
  'SIDOPULSA_ALLOWED_IPS',
  'SIDOPULSA_CALLBACK_TOKEN',
  'PPOB_ALLOWED_IPS',
  'PPOB_CALLBACK_TOKEN',
  'PPOB_API_URL',
  'PPOB_USERNAME',
  'PPOB_API_TOKEN',
  'SIDOPULSA_API_URL',
  'SIDOPULSA_API_USER',
  'SIDOPULSA_API_KEY',
  'TOPUP_COMMANDS_QUEUE',
  'TOPUP_REQUEST_TIMEOUT_MS',
  'TOPUP_LEASE_MS',
  'TOPUP_CONCURRENCY_PER_ACCOUNT',
  'TOPUP_RETRY_BASE_MS',
  'TOPUP_RETRY_MAX_MS',
  'TOPUP_MAX_ATTEMPTS',
  'TOPUP_POLL_INTERVAL_MS',
] as const;
