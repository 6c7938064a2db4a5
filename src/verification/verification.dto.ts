import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { VERIFICATION_STATES, type VerificationState } from './verification.store.js';

export { VERIFICATION_STATES };

export class VerificationListQuery {
  @ApiPropertyOptional({ enum: VERIFICATION_STATES, default: 'conflicted' })
  @IsOptional()
  @IsIn(VERIFICATION_STATES)
  state?: VerificationState;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

/** What a held callback claims: shown before anyone acts on it. Never published as such. */
export class ClaimView {
  @ApiProperty() status!: string;
  @ApiProperty() providerStatus!: string;
  @ApiProperty() merchantReference!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) providerTransactionId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) amount!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) currency!: string | null;
}

export class VerificationItem {
  @ApiProperty({ description: 'The stored callback (hint)' })
  callbackId!: string;
  @ApiProperty() provider!: string;
  @ApiProperty() account!: string;
  @ApiProperty() transactionKey!: string;
  @ApiProperty({ enum: VERIFICATION_STATES }) state!: string;
  @ApiProperty({
    type: ClaimView,
    description: 'What the callback claims (not what was published)',
  })
  claim!: ClaimView;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: "When the provider is asked next about this callback's transaction",
  })
  nextAt!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'What the last inquiry about the transaction decided',
  })
  lastResult!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lastError!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'How it ended, and why' })
  detail!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: "The stored provider's answer (callback record, method INQUIRY) that settled it",
  })
  answerId!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) settledAt!: string | null;
}

export class VerificationPage {
  @ApiProperty({ type: [VerificationItem] }) items!: VerificationItem[];
}

/** What the provider answered to an inquiry. */
export class AnswerView {
  @ApiProperty({
    enum: ['found', 'unknown', 'unavailable', 'refused'],
    description:
      '`found`: the provider answered about the transaction; `unknown`: it does not know it as asked; ' +
      '`unavailable`: no usable answer (timeout, 5xx, not JSON, …); `refused`: it refused our credentials',
  })
  kind!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) reason!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) status!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) providerStatus!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) providerTransactionId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) merchantReference!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) amount!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) currency!: string | null;
}

export class VerifyNowResult {
  @ApiProperty() callbackId!: string;
  @ApiProperty({ enum: VERIFICATION_STATES, description: 'The state right after the inquiry' })
  state!: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Why it is in that state' })
  detail!: string | null;
  @ApiProperty({ description: 'Whether the provider was asked (not when its breaker is open)' })
  asked!: boolean;
  @ApiPropertyOptional({
    nullable: true,
    type: AnswerView,
    description: 'What the provider answered',
  })
  answer!: AnswerView | null;
  @ApiProperty({ description: 'What was decided from the answer' })
  decision!: string;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'The event written from the answer, when it moved the transaction',
  })
  eventId!: string | null;
}

export class PublishUnverifiedBody {
  @ApiProperty({
    description: 'Why the operator publishes it without the provider confirming it (audited)',
    example: 'Confirmed with NICEPAY support by phone, ticket 4711',
  })
  @IsString()
  @MinLength(8, { message: 'reason must say why, in at least 8 characters' })
  @MaxLength(500)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'reason must not contain control characters' })
  reason!: string;
}

export class PublishUnverifiedResult {
  @ApiProperty() callbackId!: string;
  @ApiProperty({ enum: ['published_unverified'] }) state!: string;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description:
      'The event published (null when the transaction already held that status: nothing new)',
  })
  eventId!: string | null;
}
