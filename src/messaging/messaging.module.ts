import { Global, Module } from '@nestjs/common';
import { EventPublisher } from './event-publisher.js';
import { OutboxRelay } from './outbox-relay.js';

@Global()
@Module({
  providers: [EventPublisher, OutboxRelay],
  exports: [EventPublisher, OutboxRelay],
})
export class MessagingModule {}
