import { Module } from '@nestjs/common';
import { McpaymentController } from './mcpayment.controller.js';
import { McpaymentGuard } from './mcpayment.guard.js';
import { McpaymentProvider } from './mcpayment.provider.js';
import { McpaymentStatusApi } from './mcpayment.status-api.js';
import type { ProviderGateway } from '../provider-plugin.js';

@Module({
  controllers: [McpaymentController],
  providers: [McpaymentProvider, McpaymentGuard, McpaymentStatusApi],
})
export class McpaymentModule {}

export const MCPAYMENT_GATEWAY: ProviderGateway = { module: McpaymentModule };
