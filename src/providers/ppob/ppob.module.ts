import { Module } from '@nestjs/common';
import { PpobController } from './ppob.controller.js';
import { PpobGuard } from './ppob.guard.js';
import { PpobProvider } from './ppob.provider.js';

@Module({
  controllers: [PpobController],
  providers: [PpobProvider, PpobGuard],
})
export class PpobModule {}
