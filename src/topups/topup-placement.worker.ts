import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { uuidV7 } from '../common/uuid-v7.js';
import { hostname } from 'node:os';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { transactionKeyOf, transitionKeyOf } from '../events/normalized-transaction.js';
import { buildTransactionEvent } from '../events/transaction-event.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { CallbackStore } from '../transactions/callback-store.js';
import { TopupMetrics } from './topup-metrics.js';
import {
  maskDestination,
  type PlacementResult,
  type TopupOrderClient,
} from './topup-order-client.js';
import {
  type OrderSettlement,
  TopupOrdersRepository,
  type TopupOrderRow,
} from './topup-orders.repository.js';
import { safeErrorText } from '../common/safe-error.js';

/** Injection token: every TopupOrderClient (the providers' plugins, src/providers/index.ts). */
export const TOPUP_CLIENTS = Symbol('TOPUP_CLIENTS');

type Answered = Extract<PlacementResult, { kind: 'answered' }>;

/**
 * Places stored orders with their provider, exactly once as the provider sees it: an order is
 * claimed under a lease (like outbox rows, so replicas never send it at the same time), sent
 * after its commit, and on a timeout, network error or provider fault sent again later with the
 * same refid (the provider's de-duplication makes that safe). At most
 * TOPUP_CONCURRENCY_PER_ACCOUNT requests per (provider, account) are in flight per instance.
 */
@Injectable()
export class TopupPlacementWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger(TopupPlacementWorker.name);
  private readonly clients: Map<string, TopupOrderClient>;
  private readonly inFlight = new Map<string, number>();
  private readonly work = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private stopping = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(TOPUP_CLIENTS) clients: TopupOrderClient[],
    private readonly orders: TopupOrdersRepository,
    private readonly store: CallbackStore,
    private readonly relay: OutboxRelay,
    private readonly metrics: TopupMetrics,
  ) {
    this.clients = new Map(clients.filter((c) => c.isEnabled()).map((c) => [c.provider, c]));
  }

  clientFor(provider: string): TopupOrderClient | undefined {
    return this.clients.get(provider);
  }

  providers(): string[] {
    return [...this.clients.keys()];
  }

  onApplicationBootstrap(): void {
    if (this.clients.size === 0) return;
    this.timer = setInterval(() => this.kick(), this.config.topups.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks for due orders now (a new order was stored, a request finished). */
  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.claimRound()
      .catch((error: unknown) =>
        this.logger.warn(`Looking for top-up orders failed: ${safeErrorText(error)}`),
      )
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async claimRound(): Promise<void> {
    const { leaseMs, concurrencyPerAccount } = this.config.topups;
    for (const { provider, account } of await this.orders.dueAccounts()) {
      if (!this.clients.has(provider)) continue;
      const slot = `${provider}\u0000${account}`;
      const free = concurrencyPerAccount - (this.inFlight.get(slot) ?? 0);
      if (free <= 0 || this.stopping) continue;
      const claimed = await this.orders.claim(this.instanceId, leaseMs, provider, account, free);
      for (const row of claimed) {
        this.inFlight.set(slot, (this.inFlight.get(slot) ?? 0) + 1);
        const job = this.place(row).finally(() => {
          this.inFlight.set(slot, (this.inFlight.get(slot) ?? 1) - 1);
          this.work.delete(job);
          this.kick();
        });
        this.work.add(job);
      }
    }
  }

  private async place(row: TopupOrderRow): Promise<void> {
    const client = this.clients.get(row.provider)!;
    const what = `${row.provider} order ${row.reference} (${row.product ?? row.inquiry_id} to ${maskDestination(row.destination)}, attempt ${row.attempts})`;
    let result: PlacementResult;
    try {
      result = await client.place(
        {
          account: row.account,
          reference: row.reference,
          product: row.product,
          destination: row.destination,
          inquiryId: row.inquiry_id,
        },
        AbortSignal.timeout(this.config.topups.requestTimeoutMs),
      );
    } catch (error) {
      result = { kind: 'retry', reason: (error as Error).message };
    }
    try {
      if (result.kind === 'retry') await this.retry(row, what, result.reason);
      else await this.record(row, what, result);
    } catch (error) {
      // Storage unavailable: the lease runs out and the order is sent again (same refid).
      this.logger.error(`Recording ${what} failed: ${safeErrorText(error)}`);
    }
  }

  private async retry(row: TopupOrderRow, what: string, reason: string): Promise<void> {
    const { maxAttempts, retryBaseMs, retryMaxMs } = this.config.topups;
    const attempts = Number(row.attempts);
    if (attempts >= maxAttempts) {
      this.metrics.placements.inc({ provider: row.provider, outcome: 'abandoned' });
      this.logger.error(
        `Abandoning ${what} after ${attempts} attempts without an answer: ${reason}. ` +
          'The provider may still hold it: check with them before sending a new reference.',
      );
      await this.orders.settle(row.id, this.instanceId, {
        placement: 'abandoned',
        status: null,
        providerStatus: null,
        providerMessage: null,
        failureReason: `no answer after ${attempts} attempts: ${reason}`,
      });
      return;
    }
    // Exponential backoff with jitter, so a provider outage is not hammered in step.
    const backoff = Math.min(retryMaxMs, retryBaseMs * 2 ** (attempts - 1));
    const delay = Math.round(backoff / 2 + Math.random() * (backoff / 2));
    this.metrics.placements.inc({ provider: row.provider, outcome: 'retried' });
    this.logger.warn(`${what}: ${reason}; sending it again in ${delay} ms with the same refid`);
    await this.orders.retryLater(row.id, this.instanceId, new Date(Date.now() + delay), reason);
  }

  /** Stores the answer as the transaction's observed state, then settles the order. */
  private async record(row: TopupOrderRow, what: string, result: Answered): Promise<void> {
    const { transaction, exchange, accountError } = result;
    const callbackId = uuidV7();
    const receivedAt = new Date();
    const event = buildTransactionEvent({
      provider: row.provider,
      account: row.account,
      callbackId,
      receivedAt,
      transaction,
      // The provider's own API answered our authenticated request, as a status inquiry does.
      verification: { method: 'inquiry', at: receivedAt.toISOString() },
    });
    const lease = this.relay.leaseForNewRow();
    // Applied to the transaction's state like a callback: a later report of the same status is a
    // duplicate, a regression is superseded.
    const { outbox } = await this.store.storeAccepted(
      {
        id: callbackId,
        provider: row.provider,
        account: row.account,
        transactionKey: transactionKeyOf(transaction),
        status: transaction.status,
        transitionKey: transitionKeyOf(transaction),
        merchantReference: transaction.merchantReference,
        eventId: event.id,
        sourceIp: exchange.host.slice(0, 64),
        method: exchange.method,
        path: exchange.path,
        headers: { 'content-type': 'application/json' },
        rawBody: exchange.body,
        verification: exchange.verification,
        receivedAt,
      },
      event,
      lease,
    );
    if (outbox && lease) this.relay.publishCommitted(outbox);

    const message = typeof transaction.raw.message === 'string' ? transaction.raw.message : null;
    const failed = transaction.status === 'failed';
    const settlement: OrderSettlement = {
      placement: failed ? 'failed' : 'placed',
      status: transaction.status,
      providerStatus: transaction.providerStatus,
      providerMessage: message,
      failureReason: accountError
        ? accountError.reason
        : failed
          ? `${row.provider} refused the order: ${message ?? transaction.providerStatus}`
          : null,
    };
    if (accountError) {
      this.metrics.accountErrors.inc({ provider: row.provider, code: accountError.code });
      this.metrics.placements.inc({ provider: row.provider, outcome: 'account-error' });
      this.logger.error(`${what} failed for the account: ${accountError.reason}`);
    } else {
      this.metrics.placements.inc({
        provider: row.provider,
        outcome: failed ? 'failed' : 'placed',
      });
      this.logger.log(
        `${what}: ${row.provider} answered ${transaction.providerStatus}${message ? ` (${message})` : ''}`,
      );
    }
    if (!(await this.orders.settle(row.id, this.instanceId, settlement))) {
      this.logger.warn(`${what}: answered, but another instance had taken the order over`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }
}
