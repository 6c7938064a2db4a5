import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

export const VERIFICATION_STATES = [
  'verifying',
  'confirmed',
  'contradicted',
  'conflicted',
  'published_unverified',
] as const;

export class VerificationListQuery {
  @ApiPropertyOptional({ enum: VERIFICATION_STATES, default: 'conflicted' })
  @IsOptional()
  @IsIn(VERIFICATION_STATES)
  state?: (typeof VERIFICATION_STATES)[number];

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class VerificationItem {
  @ApiProperty({ description: 'The stored callback' })
  callbackId!: string;
  @ApiProperty() provider!: string;
  @ApiProperty() account!: string;
  @ApiProperty() transactionKey!: string;
  @ApiProperty({ enum: VERIFICATION_STATES }) state!: string;
  @ApiProperty({ description: 'Inquiries that got no usable answer so far' }) attempts!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) nextAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lastError!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'How it ended, and why' })
  detail!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) settledAt!: string | null;
}

export class VerificationPage {
  @ApiProperty({ type: [VerificationItem] }) items!: VerificationItem[];
}

export class VerifyNowResult {
  @ApiProperty() callbackId!: string;
  @ApiProperty({ enum: VERIFICATION_STATES, description: 'The state right after the inquiry' })
  state!: string;
}

export class PublishUnverifiedBody {
  @ApiProperty({
    description: 'Why the operator publishes it without the provider confirming it (audited)',
    example: 'Confirmed with NICEPAY support by phone, ticket 4711',
  })
  @IsString()
  @MinLength(8, { message: 'reason must say why, in at least 8 characters' })
  @MaxLength(500)
  reason!: string;
}

export class PublishUnverifiedResult {
  @ApiProperty() callbackId!: string;
  @ApiProperty({ enum: ['published_unverified'] }) state!: string;
}
