import { Module } from '@nestjs/common';
import type { ProviderGateway } from '../provider-plugin.js';
import { SnapController } from './snap.controller.js';
import { SnapExternalIds } from './snap.external-ids.js';
import { SnapGuard } from './snap.guard.js';
import { SnapProvider } from './snap.provider.js';
import { SnapStatusApi } from './snap.status-api.js';

@Module({
  controllers: [SnapController],
  providers: [SnapProvider, SnapGuard, SnapStatusApi, SnapExternalIds],
})
export class SnapModule {}

export const SNAP_GATEWAY: ProviderGateway = { module: SnapModule };
