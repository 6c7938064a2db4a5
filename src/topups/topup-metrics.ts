import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { GatewayMetrics } from '../observability/gateway-metrics.js';

/** Top-up order counters, on the gateway's own registry (served at /metrics). */
@Injectable()
export class TopupMetrics {
  readonly commands: Counter<'source' | 'outcome'>;
  readonly placements: Counter<'provider' | 'outcome'>;
  readonly accountErrors: Counter<'provider' | 'code'>;

  constructor(metrics: GatewayMetrics) {
    this.commands = new Counter({
      name: 'gateway_topup_commands_total',
      help: 'Top-up commands by source (amqp, http) and outcome (accepted, repeated, conflict, dead-lettered, invalid, unavailable)',
      labelNames: ['source', 'outcome'] as const,
      registers: [metrics.registry],
    });
    this.placements = new Counter({
      name: 'gateway_topup_placements_total',
      help: 'Order requests to providers by outcome (placed, failed, account-error, retried, abandoned)',
      labelNames: ['provider', 'outcome'] as const,
      registers: [metrics.registry],
    });
    this.accountErrors = new Counter({
      name: 'gateway_topup_account_errors_total',
      help: 'Orders a provider refused for the account (credentials, source address, balance): operators must act',
      labelNames: ['provider', 'code'] as const,
      registers: [metrics.registry],
    });
  }
}
