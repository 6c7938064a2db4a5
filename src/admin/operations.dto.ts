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
import { IsPrintable } from '../common/printable.js';
import { TransactionActionView } from './admin.dto.js';

/** Which outbox rows: by routing key, publish state and age. The same filter plans and acts. */
export class OutboxFilter {
  @ApiPropertyOptional({ description: 'Exact routing key, e.g. `payment.succeeded.nicepay`' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,255}$/, { message: 'routingKey must be a routing key' })
  routingKey?: string;

  @ApiPropertyOptional({
    enum: ['false', 'true'],
    description: '`false` (default): rows the broker has not confirmed; `true`: published ones',
  })
  @IsOptional()
  @IsIn(['false', 'true'])
  published?: 'false' | 'true';

  @ApiPropertyOptional({ description: 'Only rows created at least this many seconds ago' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(31_536_000)
  olderThanSeconds?: number;
}

export class OutboxQuery extends OutboxFilter {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class OutboxRowView {
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty({ format: 'uuid' }) callbackId!: string;
  @ApiProperty() routingKey!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) publishedAt!: string | null;
  @ApiProperty() ageSeconds!: number;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
}

export class OutboxPage {
  @ApiProperty({ description: 'Rows matching the filter in all (the plan of a bulk republish)' })
  total!: number;
  @ApiProperty({ type: [OutboxRowView], description: 'Oldest first, up to `limit`' })
  items!: OutboxRowView[];
}

/** The largest bulk republish: a larger one is split by routing key or age. */
export const BULK_REPUBLISH_MAX = 1000;

export class BulkRepublishBody extends OutboxFilter {
  @ApiProperty({
    description:
      'How many rows the plan (GET /admin/outbox with the same filter) said match: refused (409) when ' +
      `it differs now. At most ${BULK_REPUBLISH_MAX}.`,
  })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(BULK_REPUBLISH_MAX)
  expectedCount!: number;

  @ApiProperty({ description: 'Why (kept in the audit trail)', minLength: 3, maxLength: 1000 })
  @IsString()
  @IsPrintable()
  @MinLength(3)
  @MaxLength(1000)
  reason!: string;
}

export class BulkRepublishResult {
  @ApiProperty() republished!: number;
}

export class AuditQuery {
  @ApiPropertyOptional({ description: "The operator's name (`admin`: the shared key)" })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._@+-]{1,64}$/, { message: 'operator must be an operator name' })
  operator?: string;

  @ApiPropertyOptional({ description: 'e.g. `verifications.publish-unverified`' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'action must be an action name' })
  action?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: '`true`: actions only, no reads' })
  @IsOptional()
  @IsIn(['false', 'true'])
  actionsOnly?: 'false' | 'true';

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class AuditRowView extends TransactionActionView {
  @ApiProperty({ nullable: true, type: String, description: 'key, shared-key, proxy, session' })
  via!: string | null;
  @ApiProperty() method!: string;
}

export class AuditPage {
  @ApiProperty({ type: [AuditRowView], description: 'Newest first' })
  items!: AuditRowView[];
}
