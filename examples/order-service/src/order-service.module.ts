import { type DynamicModule, Module } from '@nestjs/common';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';
import { PROCESSED_EVENTS_LIMIT, ProcessedEvents } from './processed-events.js';

@Module({})
export class OrderServiceModule {
  static register(options: { processedEventsLimit: number }): DynamicModule {
    return {
      module: OrderServiceModule,
      controllers: [OrdersController],
      providers: [
        OrdersService,
        ProcessedEvents,
        { provide: PROCESSED_EVENTS_LIMIT, useValue: options.processedEventsLimit },
      ],
    };
  }
}
