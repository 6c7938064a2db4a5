import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { IngestService } from './ingest.service.js';
import { CallbackProviderRegistry } from './provider-registry.js';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [IngestService, CallbackProviderRegistry],
  exports: [IngestService, CallbackProviderRegistry],
})
export class IngestModule {}
