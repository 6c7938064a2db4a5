import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { emptyToUndefined } from './env-rules.js';

/** Who may use the admin API and the console. */
export class OperatorVariables {
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
}

export const OPERATORS_VARIABLES = [
  'ADMIN_API_KEY',
  'OPERATORS_FILE',
  'OPERATOR_IDENTITY_HEADER',
] as const;
