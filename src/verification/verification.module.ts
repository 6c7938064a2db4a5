import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import {
  ExpectedPaymentCommandConsumer,
  ExpectedPaymentDeadLetters,
} from './expected-payment-commands.js';
import { ExpectedPaymentsController } from './expected-payments.controller.js';
import { ExpectedPaymentsService } from './expected-payments.service.js';
import { ExpectedPaymentsStore } from './expected-payments.store.js';
import { ReconciliationService } from './reconciliation.service.js';
import { StatusApiRegistry } from './status-api.registry.js';
import { VerificationController } from './verification.controller.js';
import { VerificationService } from './verification.service.js';
import { VerificationStore } from './verification.store.js';

/**
 * Status inquiry after the ack and reconciliation (docs/verification.md). Each provider module
 * provides its status API (src/providers/<name>/<name>.status-api.ts); the registry finds them.
 * Global: the ingest pipeline asks it which providers' callbacks wait for verification.
 */
@Global()
@Module({})
export class VerificationModule {
  static forRoot(options: { admin: boolean; expectedCommands: boolean }): DynamicModule {
    return {
      module: VerificationModule,
      imports: [DiscoveryModule],
      controllers: options.admin ? [VerificationController, ExpectedPaymentsController] : [],
      providers: [
        StatusApiRegistry,
        VerificationStore,
        ExpectedPaymentsStore,
        ExpectedPaymentsService,
        ...(options.expectedCommands
          ? [ExpectedPaymentDeadLetters, ExpectedPaymentCommandConsumer]
          : []),
        VerificationService,
        ReconciliationService,
        ...(options.admin ? [AdminKeyGuard, AdminAuditInterceptor] : []),
      ],
      // The store: the console lists held and conflicted callbacks as the admin API does.
      exports: [VerificationService, ExpectedPaymentsService, VerificationStore],
    };
  }
}
