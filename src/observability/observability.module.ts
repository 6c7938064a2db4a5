import { Global, Module } from '@nestjs/common';
import { GatewayMetrics } from './gateway-metrics.js';
import { MetricsController } from './metrics.controller.js';

@Global()
@Module({
  providers: [GatewayMetrics],
  controllers: [MetricsController],
  exports: [GatewayMetrics],
})
export class ObservabilityModule {}
