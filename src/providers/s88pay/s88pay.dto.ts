import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  validateSync,
} from 'class-validator';
import { plainToInstance } from 'class-transformer';
import type { EventStatus } from '../../events/normalized-transaction.js';
import { toDecimalString } from '../../common/decimal.js';
import { S88PAY_STATUS } from './s88pay.facts.js';
import { IsPrintable } from '../../common/printable.js';

/** The normalized status of a `transaction_status` (integer or string), or null when unknown. */
export function s88payStatus(value: unknown): EventStatus | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  return S88PAY_STATUS[String(value).trim().toLowerCase()] ?? null;
}

/** Money arrives as strings ("3000.00") though documented as double, so both are accepted. */
export function s88payAmount(value: unknown): string | null {
  const decimal = toDecimalString(value);
  return decimal !== null && !decimal.startsWith('-') ? decimal : null;
}

function IsS88payStatus(): PropertyDecorator {
  return ValidateBy({
    name: 'isS88payStatus',
    validator: {
      validate: (value: unknown) => s88payStatus(value) !== null,
      defaultMessage: (args) =>
        args?.value === undefined
          ? 'transaction_status is required'
          : 'transaction_status is not an S88Pay status (1 pending, 2 completed/success, 3 failed, 4 manual process)',
    },
  });
}

function IsS88payAmount(): PropertyDecorator {
  return ValidateBy({
    name: 'isS88payAmount',
    validator: {
      validate: (value: unknown) => s88payAmount(value) !== null,
      defaultMessage: (args) => `${args?.property} must be a non-negative decimal amount`,
    },
  });
}

function IsUnixSeconds(): PropertyDecorator {
  return ValidateBy({
    name: 'isUnixSeconds',
    validator: {
      validate: (value: unknown) =>
        (typeof value === 'string' || typeof value === 'number') &&
        /^\d{1,11}$/.test(String(value)),
      defaultMessage: (args) => `${args?.property} must be unix time in seconds`,
    },
  });
}

/** How a status looks, known or not: a small number or a word. */
const STATUS_SHAPE = /^(?:\d{1,2}|[A-Za-z][A-Za-z _-]{0,31})$/;

/**
 * Whether decrypted fields have the shapes of an S88Pay payload: the DTO's rules, except that a
 * well-shaped status S88Pay may add later is left to validation after authentication (so an
 * authentic callback with a new status is not mistaken for a forgery). Messages are not used:
 * until authenticity is established nothing decrypted is echoed.
 */
export function s88payWellFormed(fields: Record<string, unknown>): boolean {
  const errors = validateSync(plainToInstance(S88payCallbackDto, fields), {
    forbidUnknownValues: false,
  });
  return errors.every(
    (error) =>
      error.property === 'transaction_status' &&
      (typeof error.value === 'number' || typeof error.value === 'string') &&
      STATUS_SHAPE.test(String(error.value)),
  );
}

/**
 * The DECRYPTED S88Pay callback payload (deposit or payout; same shape). Only the fields the
 * gateway relies on are validated; anything else S88Pay adds is kept in `raw`.
 */
export class S88payCallbackDto {
  @ApiProperty({
    description: "The operator's own transaction code, sent in the payment request",
    example: 'ORD-20251121-0001',
  })
  @IsString()
  @Matches(/\S/, { message: 'transaction_code must not be empty' })
  @IsPrintable()
  @MaxLength(191)
  transaction_code!: string;

  @ApiPropertyOptional({
    description: 'S88Pay\'s transaction number (deposits "DP-…", payouts "WD-…")',
    example: 'DP-20251121-000123',
  })
  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'transaction_no must not be empty' })
  @IsPrintable()
  @MaxLength(191)
  transaction_no?: string;

  @ApiProperty({
    description: '1/"pending", 2/"completed"/"success", 3/"failed", 4 manual process (pending)',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    example: 2,
  })
  @IsS88payStatus()
  transaction_status!: number | string;

  @ApiPropertyOptional({
    description: 'Decimal amount (a string such as "3000.00", or a number)',
    example: '150000.00',
  })
  @IsOptional()
  @IsS88payAmount()
  transaction_amount?: string | number;

  @ApiPropertyOptional({
    description: 'Decimal fee (a string such as "10.00", or a number)',
    example: '1500.00',
  })
  @IsOptional()
  @IsS88payAmount()
  transaction_fee?: string | number;

  @ApiProperty({
    description: 'ISO 4217 code; S88Pay settles in several currencies (IDR, INR, BDT, …)',
    example: 'IDR',
  })
  @IsString()
  @Matches(/^[A-Za-z]{3}$/, { message: 'currency_code must be a 3-letter ISO 4217 code' })
  currency_code!: string;

  @ApiPropertyOptional({ description: 'When it happened, unix seconds', example: 1763701512 })
  @IsOptional()
  @IsUnixSeconds()
  transaction_timestamp?: string | number;

  @ApiPropertyOptional({
    description: "The operator's merchant code at S88Pay; becomes the event account",
    example: 'SKU20230101012023',
  })
  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'merchant_code must not be empty' })
  @IsPrintable()
  @MaxLength(128)
  merchant_code?: string;

  @ApiPropertyOptional({ description: 'Payment channel code', example: 'PAY01D' })
  @IsOptional()
  @IsString()
  payment_code?: string;

  @ApiPropertyOptional({ description: 'Reference of the payment request', example: '' })
  transaction_ref?: unknown;

  [field: string]: unknown;
}
