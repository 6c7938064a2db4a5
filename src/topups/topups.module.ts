import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import { TopupCommandConsumer } from './topup-command-consumer.js';
import { TopupDeadLetters } from './topup-dead-letters.js';
import { TopupMetrics } from './topup-metrics.js';
import type { TopupOrderClient } from './topup-order-client.js';
import { TopupOrdersRepository } from './topup-orders.repository.js';
import { TopupOrdersService } from './topup-orders.service.js';
import { TOPUP_CLIENTS, TopupPlacementWorker } from './topup-placement.worker.js';
import { TopupsController } from './topups.controller.js';

/**
 * Top-up orders: commands in (RabbitMQ queue and POST /topups), orders stored, placed with the
 * provider's request API, answers recorded as the transaction's state. Imported by AppModule
 * only when a provider's request API is configured.
 */
@Module({})
export class TopupsModule {
  /** With the providers' order clients (their plugins' gateway side, src/providers/index.ts). */
  static withClients(clients: Type<TopupOrderClient>[]): DynamicModule {
    return {
      module: TopupsModule,
      controllers: [TopupsController],
      providers: [
        ...clients,
        {
          provide: TOPUP_CLIENTS,
          inject: clients,
          useFactory: (...instances: TopupOrderClient[]) => instances,
        },
        TopupOrdersRepository,
        TopupOrdersService,
        TopupPlacementWorker,
        TopupDeadLetters,
        TopupCommandConsumer,
        TopupMetrics,
        AdminKeyGuard,
        AdminAuditInterceptor,
      ],
    };
  }
}
