import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { toDecimalString } from '../../common/decimal.js';
import { MCPAYMENT_STATUS, mcpaymentStatus } from './mcpayment.facts.js';
import { IsPrintable } from '../../common/printable.js';

/** A non-negative amount that converts to a decimal string exactly (MCPayment sends JSON numbers). */
function IsAmount(): PropertyDecorator {
  return ValidateBy({
    name: 'isMcpaymentAmount',
    validator: {
      validate: (value: unknown) => {
        const text = toDecimalString(value);
        return text !== null && !text.startsWith('-');
      },
      defaultMessage: (args) => `${args?.property} must be a non-negative decimal amount`,
    },
  });
}

/** One of MCPayment's `transaction_status` values, in any case; the message names the value. */
function IsKnownStatus(): PropertyDecorator {
  return ValidateBy({
    name: 'isMcpaymentStatus',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && mcpaymentStatus(value) !== undefined,
      defaultMessage: (args) =>
        `transaction_status ${JSON.stringify(args?.value)?.slice(0, 60)} is not a known MCPayment status ` +
        `(expected one of ${Object.keys(MCPAYMENT_STATUS).join(', ')})`,
    },
  });
}

/** Times are optional and MCPayment may send them empty; when present they must be ISO 8601. */
const presentTime = (_: object, value: unknown) =>
  value !== undefined && value !== null && value !== '';

export class McpaymentPaymentDetailsDto {
  @ApiProperty({
    type: Number,
    description: 'The bill amount the merchant created the payment for',
    example: 10000.1,
  })
  @IsAmount()
  amount!: number | string;

  @ApiPropertyOptional({
    type: Number,
    description: 'Fees charged on the transaction',
    example: 4000,
  })
  @IsOptional()
  @IsAmount()
  total_fee_amount?: number | string;

  @ApiPropertyOptional({
    type: Number,
    description: 'amount + fees − promotions (kept in raw)',
    example: 14000.1,
  })
  total_amount?: unknown;

  @ApiPropertyOptional({
    type: Number,
    description: 'What the customer has paid so far (kept in raw)',
    example: 14000.1,
  })
  total_paid_amount?: unknown;

  @ApiPropertyOptional({
    description: 'When it was paid (some callback versions)',
    example: '2025-11-21T12:05:12.136+07:00',
  })
  @ValidateIf(presentTime)
  @IsISO8601({}, { message: 'payment_details.paid_time must be an ISO 8601 time' })
  paid_time?: string;

  [field: string]: unknown;
}

export class McpaymentPaymentHistoryDto {
  @ApiPropertyOptional({ example: '2025-11-21T12:05:12.136+07:00' })
  @ValidateIf(presentTime)
  @IsISO8601({}, { message: 'paid_time must be an ISO 8601 time' })
  paid_time?: string;

  [field: string]: unknown;
}

export class McpaymentRefundHistoryDto {
  @ApiPropertyOptional({ example: '2025-11-22T09:31:20.939+07:00' })
  @ValidateIf(presentTime)
  @IsISO8601({}, { message: 'refund_time must be an ISO 8601 time' })
  refund_time?: string;

  [field: string]: unknown;
}

/**
 * An MCPayment PG3 callback (JSON). Only the fields the mapper uses are validated; customer,
 * item, address and any future fields are accepted as sent and kept in `raw`.
 */
export class McpaymentCallbackDto {
  @ApiProperty({
    description: "MCPayment's transaction id",
    example: '8393c208-8b83-49eb-8c0b-0b50016e7401',
  })
  @IsString()
  @Matches(/\S/, { message: 'transaction_id must not be empty' })
  @IsPrintable()
  @MaxLength(100)
  transaction_id!: string;

  @ApiProperty({
    description: "The merchant's unique id of the payment request",
    example: '18457738645627',
  })
  @IsString()
  @Matches(/\S/, { message: 'external_id must not be empty' })
  @IsPrintable()
  @MaxLength(100)
  external_id!: string;

  @ApiProperty({ description: "The merchant's order id", example: 'Test-01' })
  @IsString()
  @Matches(/\S/, { message: 'order_id must not be empty' })
  @IsPrintable()
  @MaxLength(100)
  order_id!: string;

  @ApiProperty({
    description: 'Case-insensitive',
    enum: Object.keys(MCPAYMENT_STATUS),
    example: 'PAID',
  })
  @IsKnownStatus()
  transaction_status!: string;

  @ApiProperty({ type: () => McpaymentPaymentDetailsDto })
  @IsObject({ message: 'payment_details must be an object' })
  @ValidateNested()
  @Type(() => McpaymentPaymentDetailsDto)
  payment_details!: McpaymentPaymentDetailsDto;

  @ApiPropertyOptional({ example: 'IDR' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{3}$/, { message: 'currency must be a 3-letter code' })
  currency?: string;

  @ApiPropertyOptional({
    description: 'BANK_TRANSFER, VA, EWALLET, QRIS, CREDIT_CARD, …',
    example: 'BANK_TRANSFER',
  })
  @IsOptional()
  @IsString()
  payment_method?: string;

  @ApiPropertyOptional({ description: 'Bank / issuer channel', example: 'BRI' })
  @IsOptional()
  @IsString()
  payment_channel?: string;

  @ApiPropertyOptional({ description: 'Issuer name (only on paid transactions)', example: 'BRI ' })
  @IsOptional()
  @IsString()
  issuer?: string;

  @ApiPropertyOptional({ example: '2025-11-21T12:00:20.592+07:00' })
  @ValidateIf(presentTime)
  @IsISO8601({}, { message: 'transaction_time must be an ISO 8601 time' })
  transaction_time?: string;

  @ApiPropertyOptional({ type: () => [McpaymentPaymentHistoryDto], description: 'Only once paid' })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => McpaymentPaymentHistoryDto)
  payment_history?: McpaymentPaymentHistoryDto[];

  @ApiPropertyOptional({ type: () => [McpaymentRefundHistoryDto], description: 'Only on refunded' })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => McpaymentRefundHistoryDto)
  refund_history?: McpaymentRefundHistoryDto[];

  [field: string]: unknown;
}
