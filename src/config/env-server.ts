import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { toInt, toBool, emptyToUndefined, IsAddressList, SIZE } from './env-rules.js';

/** The HTTP server, logging, the docs, shutdown and the edge (ports, body limit, proxies, auth failures). */
export class ServerVariables {
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
  @Matches(SIZE, { message: 'BODY_LIMIT must be a size such as 65536, 64kb or 1mb' })
  BODY_LIMIT?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsAddressList()
  TRUSTED_PROXIES?: string;

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
  @Transform(toBool)
  @IsBoolean()
  DEV_TOOLS_ENABLED?: boolean;

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
}

export const SERVER_VARIABLES = [
  'HOST',
  'PORT',
  'MANAGEMENT_PORT',
  'NODE_ENV',
  'LOG_LEVEL',
  'SERVICE_NAME',
  'BODY_LIMIT',
  'TRUSTED_PROXIES',
  'DOCS_ENABLED',
  'SHUTDOWN_TIMEOUT_MS',
  'AUTH_FAILURE_LIMIT',
  'AUTH_FAILURE_WINDOW_MS',
  'DEV_TOOLS_ENABLED',
  'SANDBOX_PORT',
  'SANDBOX_EMBEDDED',
] as const;
