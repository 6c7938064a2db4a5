import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** What became of a callback request, as counted by `gateway_callbacks_total`. */
export type CallbackOutcomeLabel =
  | 'accepted'
  | 'duplicate'
  | 'superseded'
  | 'quarantined'
  | 'rejected-auth'
  | 'rejected-address'
  | 'invalid'
  | 'rate-limited'
  | 'not-configured'
  | 'unavailable'
  | 'error';

export function outcomeForStatus(status: number, accepted?: string): CallbackOutcomeLabel {
  if (status < 300) {
    // Every acknowledged callback was stored or is a copy of a stored one; the pipeline says which.
    return accepted === 'duplicate' || accepted === 'superseded' || accepted === 'quarantined'
      ? accepted
      : 'accepted';
  }
  switch (status) {
    case 401:
      return 'rejected-auth';
    case 403:
      return 'rejected-address';
    case 404:
      return 'not-configured';
    case 429:
      return 'rate-limited';
    case 503:
      return 'unavailable';
    default:
      return status < 500 ? 'invalid' : 'error';
  }
}

/**
 * Prometheus metrics, on a registry of this application's own (tests run several gateways in one
 * process). A leaf: the modules that own a measure register it here (the outbox and broker gauges
 * are read when scraped, by src/outbox/outbox-metrics.ts and src/messaging/broker-metrics.ts).
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly callbacks = new Counter({
    name: 'gateway_callbacks_total',
    help: 'Callback requests by provider, account and outcome (provider "unknown": refused before reaching a provider, e.g. body too large; account "none": not authenticated)',
    labelNames: ['provider', 'account', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly credentialMatches = new Counter({
    name: 'gateway_credential_matches_total',
    help: 'Callbacks authenticated, by provider, account and the label (or position) of the key that matched: shows when a rotated-out key stopped being used',
    labelNames: ['provider', 'account', 'key'] as const,
    registers: [this.registry],
  });

  readonly accountReloads = new Counter({
    name: 'gateway_accounts_reloads_total',
    help: 'Re-reads of ACCOUNTS_FILE by result: applied, unchanged, or refused (the running accounts stay)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly ackLatency = new Histogram({
    name: 'gateway_callback_ack_duration_seconds',
    help: 'Time from request arrival to the response (the ack, after the commit), by provider and outcome',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly eventsPublished = new Counter({
    name: 'gateway_events_published_total',
    help: 'Events confirmed by the broker, by provider',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  readonly publishFailures = new Counter({
    name: 'gateway_publish_failures_total',
    help: 'Publish attempts that were not confirmed (nack, timeout, connection lost); the event is retried',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
  }

  /** The exposition text; gauges registered by their owners are read now. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
