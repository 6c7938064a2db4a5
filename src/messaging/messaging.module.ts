import { Global, Module } from '@nestjs/common';
import { BrokerStatus } from './broker-status.js';
import { EventPublisher } from './event-publisher.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';

@Global()
@Module({
  providers: [BrokerStatus, EventPublisher, OutboxRelay],
  exports: [BrokerStatus, EventPublisher, OutboxRelay],
})
export class MessagingModule {}
