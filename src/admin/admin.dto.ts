import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import { IsPrintable } from '../common/printable.js';

export const CALLBACK_OUTCOMES = [
  'accepted',
  'superseded',
  'quarantined',
  'duplicate',
  'verifying',
  'contradicted',
  'conflicted',
  'unconfirmed',
  'rejected_auth',
  'rejected_address',
  'invalid',
] as const;
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** Earliest and latest instants both databases store and compare alike (years 1970–9999). */
export const EARLIEST_TIME = Date.UTC(1970, 0, 1);
export const LATEST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function isStorableTime(value: string): boolean {
  const time = Date.parse(value);
  return Number.isFinite(time) && time >= EARLIEST_TIME && time <= LATEST_TIME;
}

/** class-validator: an RFC 3339 instant both databases can compare (1970–9999). */
function IsStorableTime(): PropertyDecorator {
  return ValidateBy({
    name: 'isStorableTime',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isStorableTime(value),
      defaultMessage: (args) =>
        `${args?.property} must be an instant between 1970-01-01 and 9999-12-31`,
    },
  });
}

/** GET /admin/callbacks filters; all optional, combined with AND. */
export class CallbackSearchQuery {
  @ApiPropertyOptional({ description: 'Provider name, e.g. `nicepay`', maxLength: 32 })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9]{1,32}$/, { message: 'provider must be a provider name such as nicepay' })
  provider?: string;

  @ApiPropertyOptional({
    description: 'Merchant account (the event `account`), exact match, e.g. a NICEPAY iMid',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @IsPrintable()
  @MaxLength(128)
  account?: string;

  @ApiPropertyOptional({
    description: 'Normalized status as stored, e.g. `succeeded`',
    maxLength: 16,
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,16}$/, { message: 'status must be a normalized status such as succeeded' })
  status?: string;

  @ApiPropertyOptional({
    description: 'Merchant reference (the event subject), exact match',
    maxLength: 255,
  })
  @IsOptional()
  @IsString()
  @IsPrintable()
  @MaxLength(255)
  reference?: string;

  @ApiPropertyOptional({
    description: 'Provider transaction id (the stored transaction key), exact match',
    maxLength: 191,
  })
  @IsOptional()
  @IsString()
  @IsPrintable()
  @MaxLength(191)
  providerTransactionId?: string;

  @ApiPropertyOptional({ enum: CALLBACK_OUTCOMES })
  @IsOptional()
  @IsIn(CALLBACK_OUTCOMES)
  outcome?: (typeof CALLBACK_OUTCOMES)[number];

  @ApiPropertyOptional({
    // No `example`: Swagger UI would pre-fill it as a filter and find nothing.
    description: 'Received at or after (RFC 3339), e.g. `2025-11-21T00:00:00Z`',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @IsStorableTime()
  from?: string;

  @ApiPropertyOptional({
    description: 'Received before (RFC 3339, exclusive), e.g. `2025-11-22T00:00:00Z`',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @IsStorableTime()
  to?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor is not one this API returned' })
  cursor?: string;
}

export class CallbackListItem {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() provider!: string;
  @ApiProperty({ nullable: true, type: String }) account!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "Label (or position) of the account's key that verified it; never the key",
  })
  credentialKey!: string | null;
  @ApiProperty({ enum: CALLBACK_OUTCOMES }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) status!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Merchant reference' }) reference!:
    string | null;
  @ApiProperty({ nullable: true, type: String }) transactionKey!: string | null;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The event the callback first produced',
  })
  eventId!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When that event was confirmed',
  })
  publishedAt!: string | null;
  @ApiProperty({ description: 'Events of this callback (more than one after a renormalization)' })
  events!: number;
  @ApiProperty({
    nullable: true,
    type: Boolean,
    description: 'Every event confirmed by the broker; null: no event',
  })
  published!: boolean | null;
}

export class CallbackPage {
  @ApiProperty({ type: [CallbackListItem], description: 'Newest first' })
  items!: CallbackListItem[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}

export class RawRequestView {
  @ApiProperty() method!: string;
  @ApiProperty({ description: 'Route template (URL tokens are never stored)' }) path!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<
    string,
    string
  >;
  @ApiProperty({ enum: ['utf8', 'base64'] }) bodyEncoding!: 'utf8' | 'base64';
  @ApiProperty({
    description:
      'The body as text (utf8) or base64; rejected attempts keep only their first REJECTED_BODY_BYTES (default 1 KiB)',
  })
  body!: string;
  @ApiProperty() sourceIp!: string;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
}

export class OutboxEventView {
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty() routingKey!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) publishedAt!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) leaseUntil!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The CloudEvent as published',
  })
  payload!: Record<string, unknown>;
}

export class CallbackDetail {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() provider!: string;
  @ApiProperty({ nullable: true, type: String }) account!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "Label (or position) of the account's key that verified it; never the key",
  })
  credentialKey!: string | null;
  @ApiProperty({ enum: CALLBACK_OUTCOMES }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) status!: string | null;
  @ApiProperty({ nullable: true, type: String }) reference!: string | null;
  @ApiProperty({ nullable: true, type: String }) transactionKey!: string | null;
  @ApiProperty({ description: 'What verified the callback, or why it was refused' })
  verification!: string;
  @ApiProperty({ type: RawRequestView }) request!: RawRequestView;
  @ApiProperty({ nullable: true, type: String }) eventId!: string | null;
  @ApiProperty({
    type: [OutboxEventView],
    description: 'Every event of the callback, oldest first',
  })
  events!: OutboxEventView[];
}

export class RepublishResult {
  @ApiProperty({ format: 'uuid', description: 'Unchanged: consumers see the same id again' })
  eventId!: string;
  @ApiProperty({ format: 'uuid' }) callbackId!: string;
  @ApiProperty() routingKey!: string;
  @ApiProperty({ nullable: true, type: String, description: 'null: waiting for the relay' })
  publishedAt!: string | null;
  @ApiProperty() attempts!: number;
}

export class RenormalizeResult {
  @ApiProperty({
    description: 'False: the current mapper gives the same event as the latest one stored',
  })
  changed!: boolean;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The latest event before this call; null for a quarantined callback',
  })
  previousEventId!: string | null;
  @ApiProperty({
    enum: CALLBACK_OUTCOMES,
    description:
      "The callback's outcome after this call: a quarantined callback that now passes becomes " +
      '`accepted` (a transition: its event is published), `superseded` (not a transition) or ' +
      '`duplicate` (a copy of a stored callback)',
  })
  outcome!: string;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The new event (changed only)',
  })
  eventId!: string | null;
  @ApiProperty({ nullable: true, type: String }) routingKey!: string | null;
  @ApiProperty({
    type: [String],
    description: 'Top-level fields that differ (`type`, `subject`, `data.<field>`)',
  })
  differences!: string[];
}

/** Path of GET /admin/transactions/:provider/:account/:transaction. */
export class TransactionParams {
  @ApiProperty({ description: 'Provider name, e.g. `nicepay`', maxLength: 32 })
  @IsString()
  @Matches(/^[a-z0-9]+$/, { message: 'provider must be a provider name' })
  @MaxLength(32)
  provider!: string;

  @ApiProperty({ description: 'The merchant account, e.g. the NICEPAY iMid', maxLength: 128 })
  @IsString()
  @Matches(/^\P{Cc}+$/u, { message: 'account must be printable text' })
  @MaxLength(128)
  account!: string;

  @ApiProperty({
    description: "The transaction key: the provider's transaction id, else the merchant reference",
    maxLength: 191,
  })
  @IsString()
  @Matches(/^\P{Cc}+$/u, { message: 'transaction must be printable text' })
  @MaxLength(191)
  transaction!: string;
}

export class TransactionEventView {
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty() routingKey!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'data.transactionVersion' })
  transactionVersion!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'data.previousStatus' })
  previousStatus!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) publishedAt!: string | null;
}

export class TransactionCallbackView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    enum: ['callback', 'inquiry'],
    description: "`inquiry`: the provider's stored answer to a status inquiry (method INQUIRY)",
  })
  kind!: 'callback' | 'inquiry';
  @ApiProperty({
    description: 'How it was proven (a callback) or what the provider reported (an inquiry)',
  })
  verification!: string;
  @ApiProperty({ enum: CALLBACK_OUTCOMES }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) status!: string | null;
  @ApiProperty({ format: 'date-time' }) receivedAt!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The event id it stands for' })
  eventId!: string | null;
  @ApiProperty({
    type: [TransactionEventView],
    description:
      'Events stored for it (none when superseded; more than one after a renormalization)',
  })
  events!: TransactionEventView[];
}

export class TransactionDetail {
  @ApiProperty() provider!: string;
  @ApiProperty() account!: string;
  @ApiProperty() transactionKey!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Current state; null: none yet' })
  status!: string | null;
  @ApiProperty({ nullable: true, type: String }) previousStatus!: string | null;
  @ApiProperty({ description: 'Transitions so far (0: none yet)' }) version!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) createdAt!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) updatedAt!: string | null;
  @ApiProperty({
    type: [TransactionCallbackView],
    description: 'Every stored callback of the transaction, in arrival order, with its outcome',
  })
  callbacks!: TransactionCallbackView[];
  @ApiProperty({
    type: [TransactionCallbackView],
    description:
      "The provider's answers to status inquiries and reconciliation (also in `callbacks`, kind inquiry)",
  })
  inquiries!: TransactionCallbackView[];
  @ApiProperty({
    type: () => [TransactionVerificationView],
    description:
      "Callbacks of a verified provider are hints: each one's verification, what it claims and the verdict",
  })
  verifications!: TransactionVerificationView[];
  @ApiProperty({
    type: () => [TransactionActionView],
    description: "Operators' actions on this transaction, its callbacks and events (admin_audit)",
  })
  operatorActions!: TransactionActionView[];
}

export class HeldClaimView {
  @ApiProperty({ nullable: true, type: String }) status!: string | null;
  @ApiProperty({ nullable: true, type: String }) providerStatus!: string | null;
  @ApiProperty({ nullable: true, type: String }) merchantReference!: string | null;
  @ApiProperty({ nullable: true, type: String }) providerTransactionId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Decimal string' })
  amount!: string | null;
  @ApiProperty({ nullable: true, type: String }) currency!: string | null;
}

export class TransactionVerificationView {
  @ApiProperty({ format: 'uuid' }) callbackId!: string;
  @ApiProperty({
    description:
      'verifying, confirmed, contradicted, conflicted, unconfirmed, published_unverified, …',
  })
  state!: string;
  @ApiProperty({ type: HeldClaimView, description: 'What the callback claims (the held event)' })
  claim!: HeldClaimView;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) nextAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why it ended as it did' })
  detail!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) settledAt!: string | null;
}

export class TransactionActionView {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: 'e.g. verifications.publish-unverified, events.republish' })
  action!: string;
  @ApiProperty({ nullable: true, type: String }) target!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The operator's name" })
  operator!: string | null;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The answer status' })
  status!: number | null;
}
