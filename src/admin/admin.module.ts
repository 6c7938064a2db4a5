import { Module } from '@nestjs/common';
import { ConsoleGuard } from '../console/console.guard.js';
import { ConsoleLoginController } from '../console/console-login.controller.js';
import { ConsoleController } from '../console/console.controller.js';
import { AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';
import { OperationsController } from './operations.controller.js';
import { OperationsService } from './operations.service.js';

/**
 * The admin API under /admin and the operator console under /console (same services, same audit).
 * Imported by AppModule only when ADMIN_API_KEY or OPERATORS_FILE is set.
 */
@Module({
  controllers: [AdminController, OperationsController, ConsoleLoginController, ConsoleController],
  providers: [AdminService, OperationsService, AdminKeyGuard, ConsoleGuard, AdminAuditInterceptor],
})
export class AdminModule {}
