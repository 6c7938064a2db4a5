import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module.js';
import { AdminAuditInterceptor } from '../operators/admin-audit.js';
import { AdminKeyGuard } from '../operators/admin-key.guard.js';
import { ConsoleGuard } from './console.guard.js';
import { ConsoleLoginController } from './console-login.controller.js';
import { ConsoleController } from './console.controller.js';

/**
 * The operator console under /console: pages over the admin services, with the same audit.
 * Imported by AppModule with the admin API (ADMIN_API_KEY or OPERATORS_FILE).
 */
@Module({
  imports: [AdminModule],
  controllers: [ConsoleLoginController, ConsoleController],
  providers: [AdminKeyGuard, ConsoleGuard, AdminAuditInterceptor],
})
export class ConsoleModule {}
