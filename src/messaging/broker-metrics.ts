import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import { BrokerStatus } from './broker-status.js';

/** The broker gauges, registered on the gateway's registry and read from BrokerStatus when scraped. */
@Injectable()
export class BrokerMetrics {
  constructor(metrics: GatewayMetrics, broker: BrokerStatus) {
    new Gauge({
      name: 'gateway_broker_connected',
      help: '1 when the component (publisher: the confirm channel; topup-commands: consuming; topup-dead-letters) has its RabbitMQ channel open, else 0',
      labelNames: ['component'] as const,
      registers: [metrics.registry],
      collect() {
        for (const [component, state] of broker.componentStates()) {
          this.set({ component }, state.connected ? 1 : 0);
        }
      },
    });
    // One reading of the declarations serves both gauges: the first one scraped sets the second.
    new Gauge({
      name: 'gateway_broker_declaration_mismatch',
      help: '1 when a queue or exchange the gateway declares already exists with another type or arguments (used as it is; see the error log), else 0',
      labelNames: ['kind', 'name'] as const,
      registers: [metrics.registry],
      collect() {
        for (const [name, { kind, state }] of broker.declarationStates()) {
          this.set({ kind, name }, state === 'mismatch' ? 1 : 0);
          declared.set({ kind, name }, state === 'unavailable' ? 0 : 1);
        }
      },
    });
    const declared = new Gauge({
      name: 'gateway_broker_declared',
      help: '1 when the last declaration of a queue or exchange succeeded (or it exists otherwise and is used), 0 while it is retried (its node down, refused)',
      labelNames: ['kind', 'name'] as const,
      registers: [metrics.registry],
    });
  }
}
