import { Module } from '@nestjs/common';
import { PpobController } from './ppob.controller.js';
import { PpobGuard } from './ppob.guard.js';
import { PpobProvider } from './ppob.provider.js';
import type { ProviderGateway } from '../provider-plugin.js';
import { PpobOrderClient } from './ppob.orders.js';

@Module({
  controllers: [PpobController],
  providers: [PpobProvider, PpobGuard],
})
export class PpobModule {}

export const PPOB_GATEWAY: ProviderGateway = { module: PpobModule, orderClient: PpobOrderClient };
