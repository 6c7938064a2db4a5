import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { toInt, emptyToUndefined } from './env-rules.js';

/** Verification by status inquiry, expected payments and reconciliation. */
export class VerificationVariables {
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
}

export const VERIFICATION_VARIABLES = [
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
] as const;
