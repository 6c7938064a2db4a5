import { Module } from '@nestjs/common';
import { S88payController } from './s88pay.controller.js';
import { S88payGuard } from './s88pay.guard.js';
import { S88payProvider } from './s88pay.provider.js';
import { S88payStatusApi } from './s88pay.status-api.js';
import type { ProviderGateway } from '../provider-plugin.js';

@Module({
  controllers: [S88payController],
  providers: [S88payProvider, S88payGuard, S88payStatusApi],
})
export class S88payModule {}

export const S88PAY_GATEWAY: ProviderGateway = { module: S88payModule };
