import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { emptyToUndefined, IsAddressList, IsHttpUrl, VERIFY_MODES } from './env-rules.js';

/** The providers' callback credentials and status APIs (ACCOUNTS_FILE holds more accounts). */
export class ProviderVariables {
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
}

export const PROVIDERS_VARIABLES = [
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
  'SIDOPULSA_ALLOWED_IPS',
  'SIDOPULSA_CALLBACK_TOKEN',
  'PPOB_ALLOWED_IPS',
  'PPOB_CALLBACK_TOKEN',
] as const;
