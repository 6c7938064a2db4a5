import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { canonicalDecimal } from '../common/decimal.js';
import { transactionKeyOf } from '../events/normalized-transaction.js';
import type { StatusQuery } from './status-api.js';

/** Providers whose status API can follow a payment (the verified ones). */
export const EXPECTABLE_PROVIDERS = ['nicepay', 'mcpayment', 's88pay'] as const;
export type ExpectableProvider = (typeof EXPECTABLE_PROVIDERS)[number];

/** The JSON text of a `payment.expected` command's `data`, and the body of POST /payments/expected. */
const NO_CONTROL = /^[^\p{Cc}]*$/u;
const NO_CONTROL_MESSAGE = (name: string) => `${name} must not contain control characters`;

export class ExpectedPaymentDetails {
  @ApiPropertyOptional({ description: 'MCPayment: the external_id the payment was created with' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(191)
  @Matches(NO_CONTROL, { message: NO_CONTROL_MESSAGE('details.externalId') })
  externalId?: string;

  @ApiPropertyOptional({
    description: 'MCPayment: payment_method (e.g. BANK_TRANSFER, or an e-wallet such as OVO)',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(NO_CONTROL, { message: NO_CONTROL_MESSAGE('details.paymentMethod') })
  paymentMethod?: string;

  @ApiPropertyOptional({ description: 'MCPayment: payment_channel (e.g. BRI)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(NO_CONTROL, { message: NO_CONTROL_MESSAGE('details.paymentChannel') })
  paymentChannel?: string;
}

export class ExpectedPaymentDto {
  @ApiProperty({ enum: EXPECTABLE_PROVIDERS })
  @IsIn(EXPECTABLE_PROVIDERS, {
    message: `provider must be one of ${EXPECTABLE_PROVIDERS.join(', ')} (a provider with a status API)`,
  })
  provider!: ExpectableProvider;

  @ApiProperty({ description: 'The merchant account (NICEPAY iMid, …)', example: 'IONPAYTEST' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(NO_CONTROL, { message: NO_CONTROL_MESSAGE('account') })
  account!: string;

  @ApiPropertyOptional({
    description:
      "The provider's transaction id: NICEPAY tXid, MCPayment transaction_id, S88Pay transaction_no",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(191)
  @Matches(NO_CONTROL, { message: NO_CONTROL_MESSAGE('providerTransactionId') })
  providerTransactionId?: string;

  @ApiPropertyOptional({
    description:
      'The merchant reference: NICEPAY referenceNo, MCPayment order_id, S88Pay transaction_code',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(191)
  @Matches(NO_CONTROL, { message: NO_CONTROL_MESSAGE('merchantReference') })
  merchantReference?: string;

  @ApiProperty({
    description: 'Decimal string, as created at the provider (NICEPAY: exactly its amt)',
    example: '150000',
  })
  @IsString()
  @Matches(/^\d{1,15}(\.\d{1,4})?$/, {
    message: 'amount must be a decimal string such as 150000 or 150000.00',
  })
  amount!: string;

  @ApiProperty({ example: 'IDR' })
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code in upper case (IDR)' })
  currency!: string;

  @ApiProperty({
    description: 'When the payment expires at the provider (RFC 3339 with an offset)',
    example: '2026-12-06T18:00:00+07:00',
  })
  @IsString()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an RFC 3339 time with an offset' })
  @Matches(/(Z|[+-]\d{2}:\d{2})$/i, { message: 'expiresAt must carry an offset (Z or +07:00)' })
  expiresAt!: string;

  @ApiPropertyOptional({ type: ExpectedPaymentDetails })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ExpectedPaymentDetails)
  details?: ExpectedPaymentDetails;
}

/** A refused expected payment: what is missing or inconsistent, for the provider named. */
export class ExpectedPaymentRefused extends Error {
  constructor(
    readonly kind: 'invalid' | 'conflict' | 'not-configured',
    message: string,
  ) {
    super(message);
  }
}

/** What an expected payment is followed by: its transaction key and the status inquiry to send. */
export interface ExpectedInquiry {
  transactionKey: string;
  query: StatusQuery;
}

/**
 * The inquiry each provider's status API needs, from what the order service knows:
 * - NICEPAY: tXid (`providerTransactionId`), referenceNo (`merchantReference`), amt (`amount`);
 * - MCPayment: transaction_id, order_id (`merchantReference`), `details.externalId`,
 *   `details.paymentMethod`, `details.paymentChannel`;
 * - S88Pay: transaction_code (`merchantReference`) and transaction_no (`providerTransactionId`:
 *   its callbacks are keyed by it).
 */
export function expectedInquiry(payment: ExpectedPaymentDto): ExpectedInquiry {
  const missing: string[] = [];
  const need = (value: string | undefined, name: string) => {
    if (value === undefined) missing.push(name);
    return value ?? '';
  };
  const reference = need(payment.merchantReference, 'merchantReference');
  const id = need(payment.providerTransactionId, 'providerTransactionId');
  let raw: Record<string, unknown>;
  switch (payment.provider) {
    case 'nicepay':
      raw = { tXid: id, referenceNo: reference, amt: payment.amount };
      break;
    case 'mcpayment': {
      const details = payment.details ?? {};
      raw = {
        transaction_id: id,
        order_id: reference,
        external_id: need(details.externalId, 'details.externalId'),
        payment_method: need(details.paymentMethod, 'details.paymentMethod'),
        payment_channel: need(details.paymentChannel, 'details.paymentChannel'),
      };
      break;
    }
    case 's88pay':
      raw = { transaction_code: reference, transaction_no: id };
      break;
  }
  if (missing.length > 0) {
    throw new ExpectedPaymentRefused(
      'invalid',
      `${payment.provider}'s status API needs ${missing.join(', ')}`,
    );
  }
  const query: StatusQuery = {
    account: payment.account,
    providerTransactionId: id,
    merchantReference: reference,
    amount: payment.amount,
    currency: payment.currency,
    paymentMethod: payment.details?.paymentMethod ?? null,
    channel: payment.details?.paymentChannel ?? null,
    raw,
  };
  const transactionKey = transactionKeyOf({
    domain: 'payment',
    status: 'pending',
    providerStatus: '',
    providerTransactionId: id,
    merchantReference: reference,
    amount: payment.amount,
    currency: payment.currency,
    fee: null,
    paymentMethod: null,
    channel: null,
    product: null,
    occurredAt: null,
    raw,
  });
  return { transactionKey, query };
}

/** The fields a repeat of the command must agree on, in canonical form. */
export function comparableExpected(payment: ExpectedPaymentDto): Record<string, string | null> {
  return {
    providerTransactionId: payment.providerTransactionId ?? null,
    merchantReference: payment.merchantReference ?? null,
    amount: canonicalDecimal(payment.amount),
    currency: payment.currency,
    expiresAt: new Date(payment.expiresAt).toISOString(),
    externalId: payment.details?.externalId ?? null,
    paymentMethod: payment.details?.paymentMethod ?? null,
    paymentChannel: payment.details?.paymentChannel ?? null,
  };
}

/** The names of the fields that differ between two comparable forms. */
export function expectedDifferences(
  stored: Record<string, string | null>,
  repeat: Record<string, string | null>,
): string[] {
  return Object.keys(repeat).filter((name) => stored[name] !== repeat[name]);
}

/**
 * When to ask next about an expected payment: slow while its expiry is far, tightening near it
 * (a quarter of the time left, between `minSeconds` and `maxSeconds`), never later than the expiry
 * itself — where the final inquiry is. Null once the expiry has passed.
 */
export function nextExpectedAsk(
  now: Date,
  expiresAt: Date,
  minSeconds: number,
  maxSeconds: number,
): Date | null {
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return null;
  const interval = Math.min(maxSeconds * 1000, Math.max(minSeconds * 1000, left / 4));
  return new Date(Math.min(now.getTime() + interval, expiresAt.getTime()));
}
