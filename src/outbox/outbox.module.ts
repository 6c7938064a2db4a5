import { Global, Module } from '@nestjs/common';
import { OutboxMetrics } from './outbox-metrics.js';
import { OutboxRelay } from './outbox-relay.js';
import { OutboxRepository } from './outbox.repository.js';

/** The outbox: rows written with each state change, published by the relay after the commit. */
@Global()
@Module({
  providers: [OutboxRepository, OutboxRelay, OutboxMetrics],
  exports: [OutboxRepository, OutboxRelay],
})
export class OutboxModule {}
