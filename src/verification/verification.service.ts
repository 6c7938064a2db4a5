import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import type { TransactionEvent } from '../events/transaction-event.js';
import { OutboxRelay } from '../messaging/outbox-relay.js';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import type { AcceptedCallbackRecord, OutboxRecord } from '../persistence/callback-store.js';
import { Breaker, RateLimiter, retryDelayMs } from './pacing.js';
import type { InquiryAnswer, ProviderStatusApi, StatusQuery } from './status-api.js';
import { StatusApiRegistry } from './status-api.registry.js';
import { judge } from './verdict.js';
import {
  claimOfEvent,
  queryOfEvent,
  transactionOfEvent,
  type VerificationState,
  VerificationStore,
  type VerificationWork,
  withVerification,
} from './verification.store.js';

/** How long a claimed verification stays reserved for the replica asking (> inquiry timeout + waits). */
const VERIFY_LEASE_MS = 60_000;
/** Consecutive failed inquiries that open a provider's breaker. */
const BREAKER_THRESHOLD = 5;
/** Rows one sweep claims per free worker slot. */
const CLAIM_PER_SLOT = 4;

export type VerificationResult =
  | 'confirmed'
  | 'contradicted'
  | 'conflicted'
  | 'unavailable'
  | 'refused'
  | 'reconciled'
  | 'still-pending';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Verify after the ack: a callback of a provider whose scheme cannot prove its status is stored
 * `verifying` and acknowledged; its event waits here until the provider's status API confirms it.
 * Work is claimed under a lease like outbox rows (one inquiry per callback across replicas), run
 * with bounded concurrency, a rate limit per provider account, backoff with jitter and a breaker
 * per provider.
 */
@Injectable()
export class VerificationService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Verification');
  private readonly limiter: RateLimiter;
  private readonly breaker: Breaker;
  private readonly queue: VerificationWork[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;
  private stopping = false;
  readonly results: Counter<'provider' | 'result'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: VerificationStore,
    private readonly apis: StatusApiRegistry,
    private readonly relay: OutboxRelay,
    metrics: GatewayMetrics,
  ) {
    const { ratePerSecond, retryMaxSeconds } = config.verification;
    this.limiter = new RateLimiter(ratePerSecond);
    this.breaker = new Breaker(BREAKER_THRESHOLD, retryMaxSeconds * 1000);
    this.results = new Counter({
      name: 'gateway_verifications_total',
      help: 'Status inquiries by provider and result (confirmed, contradicted, conflicted, unavailable, refused; reconciliation: reconciled, still-pending)',
      labelNames: ['provider', 'result'] as const,
      registers: [metrics.registry],
    });
    const backlog = () => this.store.backlog();
    new Gauge({
      name: 'gateway_verification_oldest_seconds',
      help: 'Age of the oldest callback whose event waits for the provider to confirm it (0 when none)',
      registers: [metrics.registry],
      async collect() {
        const { oldestCreatedAt } = await backlog().catch(() => ({ oldestCreatedAt: null }));
        this.set(oldestCreatedAt ? (Date.now() - oldestCreatedAt.getTime()) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'gateway_verification_backlog',
      help: 'Callbacks whose event waits for the provider to confirm it',
      registers: [metrics.registry],
      async collect() {
        const { count } = await backlog().catch(() => ({ count: 0 }));
        this.set(count);
      },
    });
  }

  onApplicationBootstrap(): void {
    for (const api of this.apis.all()) {
      if (api.isConfigured() && !api.isEnabled()) {
        this.logger.warn(
          `${api.provider} verification is off (${api.provider.toUpperCase()}_VERIFY or its status API settings): its events are published on the callback's own scheme, which leaves ${api.unprovenWithout} unproven`,
        );
      }
    }
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.outbox.sweepIntervalMs);
    this.sweepTimer.unref();
    void this.sweep();
  }

  /** The status API that must confirm this provider's callbacks; undefined when none must. */
  verifierFor(provider: string): ProviderStatusApi | undefined {
    return this.apis.enabled(provider);
  }

  /**
   * Ingest, for a provider that is verified: stores the callback `verifying` with its event (not
   * yet in the outbox) and starts the inquiry after the commit. The ack never waits for it.
   */
  async storeVerifying(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
  ): Promise<'verifying' | 'duplicate'> {
    const lease = { owner: this.relay.instanceId, until: new Date(Date.now() + VERIFY_LEASE_MS) };
    const outcome = await this.store.storeVerifying(callback, event, lease);
    if (outcome === 'verifying' && !this.stopping) {
      this.enqueue({
        callbackId: callback.id,
        provider: callback.provider,
        account: callback.account,
        transactionKey: callback.transactionKey,
        transitionKey: callback.transitionKey,
        event,
        attempts: 0,
        createdAt: callback.receivedAt,
      });
    }
    return outcome;
  }

  /** Claims due rows (free or expired leases) while worker slots are free. */
  sweep(): Promise<void> {
    if (this.sweeping || this.stopping) return this.sweeping ?? Promise.resolve();
    this.sweeping = (async () => {
      try {
        const free = this.config.verification.concurrency - this.inFlight.size - this.queue.length;
        if (free <= 0) return;
        const rows = await this.store.claim(
          this.relay.instanceId,
          VERIFY_LEASE_MS,
          free * CLAIM_PER_SLOT,
        );
        for (const row of rows) this.enqueue(row);
      } catch (error) {
        this.logger.warn(`Verification sweep interrupted: ${(error as Error).message}`);
      }
    })().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private enqueue(work: VerificationWork): void {
    this.queue.push(work);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight.size < this.config.verification.concurrency && this.queue.length > 0) {
      const work = this.queue.shift()!;
      const run: Promise<void> = this.verify(work, this.relay.instanceId)
        .then(() => undefined)
        .catch((error: unknown) => {
          // Left leased: another sweep takes it again once the lease has expired.
          this.logger.warn(
            `Verifying callback ${work.callbackId} failed: ${(error as Error).message}`,
          );
        })
        .finally(() => {
          this.inFlight.delete(run);
          this.pump();
        });
      this.inFlight.add(run);
    }
  }

  /** Asks the provider, paced: rate limit per account, breaker per provider. Null: not asked now. */
  async ask(
    api: ProviderStatusApi,
    account: string,
    query: StatusQuery,
  ): Promise<InquiryAnswer | null> {
    if (!this.breaker.allow(api.provider)) return null;
    for (;;) {
      const wait = this.limiter.take(`${api.provider}\u0000${account}`);
      if (wait === 0) break;
      if (this.stopping) return null;
      await sleep(wait);
    }
    const answer = await api.inquire(query);
    if (answer.kind === 'unavailable' || answer.kind === 'refused')
      this.breaker.failed(api.provider);
    else this.breaker.succeeded(api.provider);
    if (answer.kind === 'found') {
      for (const warning of answer.report.warnings) this.logger.warn(warning);
    }
    return answer;
  }

  /** One inquiry for one held row, and what follows from its answer. */
  private async verify(work: VerificationWork, owner: string): Promise<VerificationState> {
    const api = this.verifierFor(work.provider);
    const retryMax = this.config.verification.retryMaxSeconds;
    if (!api || this.stopping) {
      await this.store.release(work, owner, new Date(Date.now() + retryMax * 1000));
      return 'verifying';
    }
    const query = queryOfEvent(work.event);
    const answer = await this.ask(api, work.account, query);
    if (answer === null) {
      // Breaker open (or shutting down): not an attempt; ask again when it may be closed.
      await this.store.release(work, owner, new Date(Date.now() + retryMax * 1000));
      return 'verifying';
    }
    if (answer.kind === 'unavailable' || answer.kind === 'refused') {
      const delay = retryDelayMs(work.attempts + 1, retryMax);
      const line = `${api.provider} inquiry for callback ${work.callbackId} (attempt ${work.attempts + 1}) ${answer.kind}: ${answer.reason}; retry in ${Math.round(delay / 1000)} s`;
      if (answer.kind === 'refused') this.logger.error(line);
      else this.logger.warn(line);
      this.results.inc({ provider: api.provider, result: answer.kind });
      await this.store.retryLater(work, owner, new Date(Date.now() + delay), answer.reason);
      return 'verifying';
    }
    const at = new Date();
    const lease = this.relay.leaseForNewRow();
    if (answer.kind === 'unknown') {
      return this.conflict(
        work,
        owner,
        `the provider does not confirm the transaction: ${answer.reason}`,
      );
    }
    const report = answer.report;
    const verdict = judge(claimOfEvent(work.event), report, api.mismatches?.(query, report) ?? []);
    if (verdict.outcome === 'conflicted') return this.conflict(work, owner, verdict.reason);
    const settled =
      verdict.outcome === 'confirmed'
        ? await this.store.settle(work, owner, {
            state: 'confirmed',
            detail: `${api.provider} reports ${report.providerStatus} (${report.status})`,
            publish: withVerification(work.event, { method: 'inquiry', at: at.toISOString() }),
            lease,
          })
        : await this.store.settle(work, owner, {
            state: 'contradicted',
            detail: `the callback says ${work.event.body.data.status}, ${api.provider} reports ${report.providerStatus} (${report.status}): the provider's status is applied`,
            record: {
              provider: work.provider,
              account: work.account,
              transactionKey: work.transactionKey,
              transaction: {
                ...transactionOfEvent(work.event),
                status: report.status,
                providerStatus: report.providerStatus,
              },
              report,
              method: 'inquiry',
              at,
            },
            lease,
          });
    if (!settled.settled) return 'verifying';
    if (verdict.outcome === 'contradicted') {
      this.logger.warn(
        `${api.provider} callback ${work.callbackId} contradicted: it says ${work.event.body.data.status}, the provider reports ${report.status}`,
      );
    }
    this.results.inc({ provider: api.provider, result: verdict.outcome });
    this.publish(settled.outbox, lease);
    return verdict.outcome;
  }

  private async conflict(
    work: VerificationWork,
    owner: string | null,
    reason: string,
  ): Promise<VerificationState> {
    const settled = await this.store.settle(work, owner, {
      state: 'conflicted',
      detail: reason,
      lease: null,
    });
    if (!settled.settled) return 'verifying';
    this.results.inc({ provider: work.provider, result: 'conflicted' });
    this.logger.error(
      `${work.provider} callback ${work.callbackId} conflicts with the provider, nothing published: ${reason}`,
    );
    return 'conflicted';
  }

  publish(outbox: OutboxRecord[], lease: { owner: string; until: Date } | null): void {
    for (const record of outbox) {
      if (lease) this.relay.publishCommitted(record);
      else void this.relay.sweep();
    }
  }

  /** Admin "verify now": asks at once, whatever the schedule (a conflicted one again too). */
  async verifyNow(callbackId: string): Promise<VerificationState | null> {
    const owner = `${this.relay.instanceId}:admin`;
    const work = await this.store.claimOne(callbackId, owner, VERIFY_LEASE_MS);
    if (!work) return null;
    return this.verify(work, owner);
  }

  /**
   * Admin "publish without verification", for an operator who checked with the provider by hand:
   * the callback's event is published as its scheme proved it (verification method `signature`).
   */
  async publishUnverified(callbackId: string, reason: string): Promise<boolean> {
    const work = await this.store.get(callbackId);
    if (!work || (work.state !== 'verifying' && work.state !== 'conflicted')) return false;
    const lease = this.relay.leaseForNewRow();
    const at = new Date().toISOString();
    const settled = await this.store.settle(work, null, {
      state: 'published_unverified',
      detail: `published without verification by an operator: ${reason}`,
      publish: withVerification(work.event, { method: 'signature', at }),
      lease,
    });
    if (!settled.settled) return false;
    this.logger.warn(
      `${work.provider} callback ${callbackId} published without verification by an operator: ${reason}`,
    );
    this.publish(settled.outbox, lease);
    return true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweepTimer);
    await this.sweeping;
    // Queued work is simply left leased: its lease expires and a sweep takes it again.
    this.queue.length = 0;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
