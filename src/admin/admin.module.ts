import { Module } from '@nestjs/common';
import { AdminAuditInterceptor } from './admin-audit.js';
import { AdminKeyGuard } from './admin-key.guard.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';

/** The admin API under /admin. Imported by AppModule only when ADMIN_API_KEY is set. */
@Module({
  controllers: [AdminController],
  providers: [AdminService, AdminKeyGuard, AdminAuditInterceptor],
})
export class AdminModule {}
