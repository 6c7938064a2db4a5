import { Module } from '@nestjs/common';
import { SidopulsaController } from './sidopulsa.controller.js';
import { SidopulsaGuard } from './sidopulsa.guard.js';
import { SidopulsaProvider } from './sidopulsa.provider.js';

@Module({
  controllers: [SidopulsaController],
  providers: [SidopulsaProvider, SidopulsaGuard],
})
export class SidopulsaModule {}
