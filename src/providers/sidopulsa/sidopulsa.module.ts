import { Module } from '@nestjs/common';
import { SidopulsaController } from './sidopulsa.controller.js';
import { SidopulsaGuard } from './sidopulsa.guard.js';
import { SidopulsaProvider } from './sidopulsa.provider.js';
import type { ProviderGateway } from '../provider-plugin.js';
import { SidopulsaOrderClient } from './sidopulsa.orders.js';

@Module({
  controllers: [SidopulsaController],
  providers: [SidopulsaProvider, SidopulsaGuard],
})
export class SidopulsaModule {}

export const SIDOPULSA_GATEWAY: ProviderGateway = {
  module: SidopulsaModule,
  orderClient: SidopulsaOrderClient,
};
