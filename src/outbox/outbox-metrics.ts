import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import { OutboxRepository } from './outbox.repository.js';

/** The outbox gauges, registered on the gateway's registry and read from the table when scraped. */
@Injectable()
export class OutboxMetrics {
  constructor(metrics: GatewayMetrics, outbox: OutboxRepository) {
    // One query serves both gauges: the first one scraped reads it and sets the second.
    new Gauge({
      name: 'gateway_outbox_backlog',
      help: 'Events stored but not yet confirmed by the broker',
      registers: [metrics.registry],
      async collect() {
        try {
          const { count, oldestCreatedAt } = await outbox.backlog();
          this.set(count);
          oldestAge.set(
            oldestCreatedAt ? Math.max(0, (Date.now() - oldestCreatedAt.getTime()) / 1000) : 0,
          );
        } catch {
          // Database unreachable: keep the last values; readiness reports the outage.
        }
      },
    });
    const oldestAge = new Gauge({
      name: 'gateway_outbox_oldest_unpublished_age_seconds',
      help: 'Age of the oldest event not yet confirmed by the broker (0 when none)',
      registers: [metrics.registry],
    });
  }
}
