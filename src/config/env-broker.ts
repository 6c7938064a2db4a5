import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { toInt, emptyToUndefined } from './env-rules.js';

/** RabbitMQ, the events exchange and the outbox relay. */
export class BrokerVariables {
  @IsOptional()
  @Transform(emptyToUndefined)
  // One URL, or several separated by commas (the nodes of a cluster): tried in turn.
  @Matches(/^\s*amqps?:\/\/[^,\s]+(\s*,\s*amqps?:\/\/[^,\s]+)*\s*$/, {
    message: 'AMQP_URL must be an amqp:// or amqps:// URL, or several separated by commas',
  })
  AMQP_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['quorum', 'classic'], { message: 'QUEUE_TYPE must be quorum or classic' })
  QUEUE_TYPE?: 'quorum' | 'classic';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[\w.:-]+$/, {
    message: 'EVENTS_EXCHANGE must be letters, digits, dots, colons, dashes or underscores',
  })
  EVENTS_EXCHANGE?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['mask', 'publish'], { message: 'EVENTS_PERSONAL_DATA must be mask or publish' })
  EVENTS_PERSONAL_DATA?: 'mask' | 'publish';

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(3_600_000)
  OUTBOX_SWEEP_INTERVAL_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(5000)
  OUTBOX_BATCH_SIZE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  OUTBOX_LEASE_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  PUBLISH_TIMEOUT_MS?: number;
}

export const BROKER_VARIABLES = [
  'AMQP_URL',
  'QUEUE_TYPE',
  'EVENTS_EXCHANGE',
  'EVENTS_PERSONAL_DATA',
  'OUTBOX_SWEEP_INTERVAL_MS',
  'OUTBOX_BATCH_SIZE',
  'OUTBOX_LEASE_MS',
  'PUBLISH_TIMEOUT_MS',
] as const;
