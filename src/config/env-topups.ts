import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { toInt, emptyToUndefined, HTTP_URL } from './env-rules.js';

/** Top-up orders: the providers' request APIs and the placement worker. */
export class TopupVariables {
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

export const TOPUPS_VARIABLES = [
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
