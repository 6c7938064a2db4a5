import { Module } from '@nestjs/common';
import { NicepayController } from './nicepay.controller.js';
import { NicepayGuard } from './nicepay.guard.js';
import { NicepayProvider } from './nicepay.provider.js';
import { NicepayStatusApi } from './nicepay.status-api.js';
import type { ProviderGateway } from '../provider-plugin.js';

@Module({
  controllers: [NicepayController],
  providers: [NicepayProvider, NicepayGuard, NicepayStatusApi],
})
export class NicepayModule {}

export const NICEPAY_GATEWAY: ProviderGateway = { module: NicepayModule };
