import { Module } from '@nestjs/common';
import { RejectedAttemptRecorder } from './rejected-attempts.js';
import { RetentionService } from './retention.service.js';

/**
 * The life cycle of stored callbacks beyond the pipeline: recording refused attempts, and the
 * scheduled purge of old callbacks and attempts. Always on.
 */
@Module({
  providers: [RetentionService, RejectedAttemptRecorder],
  exports: [RetentionService, RejectedAttemptRecorder],
})
export class RetentionModule {}
