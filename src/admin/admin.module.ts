import { Module } from '@nestjs/common';
import { AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';
import { OperationsController } from './operations.controller.js';
import { OperationsService } from './operations.service.js';
import { RenormalizationService } from './renormalization.service.js';
import { TransactionHistoryService } from './transaction-history.service.js';

/**
 * The admin API under /admin; its services also serve the operator console (src/console).
 * Imported by AppModule only when ADMIN_API_KEY or OPERATORS_FILE is set.
 */
@Module({
  controllers: [AdminController, OperationsController],
  providers: [
    AdminService,
    TransactionHistoryService,
    RenormalizationService,
    OperationsService,
    AdminKeyGuard,
    AdminAuditInterceptor,
  ],
  exports: [AdminService, TransactionHistoryService, OperationsService],
})
export class AdminModule {}
