import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AdminAuditInterceptor } from './admin-audit.js';
import { AdminKeyGuard } from './admin-key.guard.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';
import { CallbackProviderRegistry } from './provider-registry.js';

/** The admin API under /admin. Imported by AppModule only when ADMIN_API_KEY is set. */
@Module({
  imports: [DiscoveryModule],
  controllers: [AdminController],
  providers: [AdminService, AdminKeyGuard, AdminAuditInterceptor, CallbackProviderRegistry],
})
export class AdminModule {}
