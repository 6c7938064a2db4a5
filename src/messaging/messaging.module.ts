import { Global, Module } from '@nestjs/common';
import { BrokerMetrics } from './broker-metrics.js';
import { BrokerStatus } from './broker-status.js';
import { EventPublisher } from './event-publisher.js';

@Global()
@Module({
  providers: [BrokerStatus, EventPublisher, BrokerMetrics],
  exports: [BrokerStatus, EventPublisher],
})
export class MessagingModule {}
