import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import {
  comparableExpected,
  type ExpectedPaymentDto,
  expectedDifferences,
  expectedInquiry,
  ExpectedPaymentRefused,
  nextExpectedAsk,
} from './expected-payments.js';
import {
  type ExpectedPaymentRow,
  type ExpectedState,
  ExpectedPaymentsStore,
} from './expected-payments.store.js';
import type { StatusQuery } from './status-api.js';
import { StatusApiRegistry } from './status-api.registry.js';
import type { TransactionKey } from './verification.store.js';

/** An expected payment as the API shows it. */
export interface ExpectedPaymentView {
  provider: string;
  account: string;
  transactionKey: string;
  providerTransactionId: string | null;
  merchantReference: string | null;
  amount: string;
  currency: string;
  expiresAt: string;
  state: ExpectedState;
  overdue: boolean;
  finalStatus: string | null;
  foundByInquiry: boolean;
  lastResult: string | null;
  createdAt: string;
  closedAt: string | null;
}

const iso = (value: string | Date) => new Date(value).toISOString();

export function expectedView(row: ExpectedPaymentRow, now = new Date()): ExpectedPaymentView {
  return {
    provider: row.provider,
    account: row.account,
    transactionKey: row.transaction_key,
    providerTransactionId: row.provider_transaction_id,
    merchantReference: row.merchant_reference,
    amount: row.amount,
    currency: row.currency,
    expiresAt: iso(row.expires_at),
    state: row.state,
    overdue:
      row.state === 'overdue' ||
      row.state === 'unknown' ||
      (row.state === 'open' && new Date(row.expires_at) < now),
    finalStatus: row.final_status,
    foundByInquiry: Number(row.found_by_inquiry) === 1,
    lastResult: row.last_result,
    createdAt: iso(row.created_at),
    closedAt: row.closed_at ? iso(row.closed_at) : null,
  };
}

/** What one inquiry about a followed transaction found, for its expected payment. */
export type FollowedAnswer =
  | { kind: 'answered'; status: string; providerStatus: string }
  | { kind: 'unknown'; reason: string }
  | { kind: 'no-answer' };

/** What follows for an expected payment: when to ask next, and whether following ends. */
export interface FollowDecision {
  nextAt: Date | null;
  close?: { state: Exclude<ExpectedState, 'open'>; finalStatus: string | null; result: string };
  note: string;
}

/**
 * Expected payments (docs/expected-payments.md): the order service says which payments it created
 * (POST /payments/expected or a `payment.expected` command); the gateway follows each by inquiry
 * — through the same per-transaction schedule, lease, rate limit and breaker as verification —
 * until the provider reports a final state or the expiry passed, so a payment whose callbacks were
 * all lost still reaches the merchant, and silence becomes visible in metrics.
 */
@Injectable()
export class ExpectedPaymentsService {
  private readonly logger = new Logger('ExpectedPayments');
  readonly commands: Counter<'source' | 'outcome'>;
  private readonly foundByInquiry: Counter<'provider'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: ExpectedPaymentsStore,
    private readonly apis: StatusApiRegistry,
    metrics: GatewayMetrics,
  ) {
    const registers = [metrics.registry];
    this.commands = new Counter({
      name: 'gateway_expected_payment_commands_total',
      help: 'Expected-payment commands by source (http, amqp) and outcome (accepted, repeated, conflict, invalid, unavailable)',
      labelNames: ['source', 'outcome'] as const,
      registers,
    });
    this.foundByInquiry = new Counter({
      name: 'gateway_expected_payments_found_by_inquiry_total',
      help: 'Expected payments that reached a final state by inquiry without any callback (per provider: a broken callback URL shows here)',
      labelNames: ['provider'] as const,
      registers,
    });
    const figures = () => this.store.figures();
    const none = { open: 0, overdue: 0, oldestOpen: null };
    new Gauge({
      name: 'gateway_expected_payments_open',
      help: 'Expected payments still followed (no final state yet)',
      registers,
      async collect() {
        this.set((await figures().catch(() => none)).open);
      },
    });
    new Gauge({
      name: 'gateway_expected_payments_overdue',
      help: 'Expected payments past their expiry without a final state (open, or listed for an operator)',
      registers,
      async collect() {
        this.set((await figures().catch(() => none)).overdue);
      },
    });
    new Gauge({
      name: 'gateway_expected_payment_oldest_seconds',
      help: 'Age of the oldest expected payment still followed (0 when none)',
      registers,
      async collect() {
        const { oldestOpen } = await figures().catch(() => none);
        this.set(oldestOpen ? (Date.now() - oldestOpen.getTime()) / 1000 : 0);
      },
    });
  }

  /**
   * Registers an expected payment (idempotent by provider, account and transaction): `created`
   * false for a repeat of the same payment; ExpectedPaymentRefused for a conflicting repeat (the
   * differences named), a provider whose status API is off, or what its status API needs missing.
   */
  async register(
    payment: ExpectedPaymentDto,
    source: 'http' | 'amqp',
  ): Promise<{ created: boolean; payment: ExpectedPaymentView }> {
    if (!this.apis.enabled(payment.provider)) {
      throw new ExpectedPaymentRefused(
        'not-configured',
        `${payment.provider} has no status API configured (or ${payment.provider.toUpperCase()}_VERIFY=off): the gateway cannot follow its payments`,
      );
    }
    if (!this.config.accounts.statusApiCredentials(payment.provider, payment.account)) {
      throw new ExpectedPaymentRefused(
        'not-configured',
        `${payment.provider} account ${payment.account} is not configured`,
      );
    }
    const { transactionKey, query } = expectedInquiry(payment);
    const expiresAt = new Date(payment.expiresAt);
    const now = new Date();
    const { minIntervalSeconds, maxIntervalSeconds } = this.config.verification.expected;
    const comparable = comparableExpected(payment);
    const { created, row } = await this.store.register({
      provider: payment.provider,
      account: payment.account,
      transactionKey,
      providerTransactionId: payment.providerTransactionId ?? null,
      merchantReference: payment.merchantReference ?? null,
      amount: payment.amount,
      currency: payment.currency,
      details: comparable,
      query,
      expiresAt,
      source,
      firstAsk: nextExpectedAsk(now, expiresAt, minIntervalSeconds, maxIntervalSeconds) ?? now,
    });
    if (!created) {
      const stored = JSON.parse(row.details) as Record<string, string | null>;
      const differences = expectedDifferences(stored, comparable);
      if (differences.length > 0) {
        throw new ExpectedPaymentRefused(
          'conflict',
          `${payment.provider} transaction ${transactionKey} is expected already with another ${differences.join(', ')}`,
        );
      }
    }
    return { created, payment: expectedView(row) };
  }

  async get(key: TransactionKey): Promise<ExpectedPaymentView | null> {
    const row = await this.store.get(key);
    return row ? expectedView(row) : null;
  }

  async list(state: ExpectedState, limit: number): Promise<ExpectedPaymentView[]> {
    return (await this.store.list(state, limit)).map((row) => expectedView(row));
  }

  /** The inquiry an open expected payment is asked with (before any callback or answer). */
  async queryOf(key: TransactionKey): Promise<StatusQuery | null> {
    const row = await this.store.get(key);
    return row && row.state === 'open' ? (JSON.parse(row.query) as StatusQuery) : null;
  }

  /**
   * How one inquiry's outcome moves the expected payment of a followed transaction (expiring at
   * `followUntil`): a final state ends following; before the expiry it is asked again on the
   * expected schedule; after it, the final inquiry's answer ends it (`overdue` when still
   * unfinished, `unknown` when the provider does not know it); without an answer it stays open
   * (and overdue) while the retries go on.
   */
  decide(followUntil: Date, answer: FollowedAnswer, now = new Date()): FollowDecision {
    const { minIntervalSeconds, maxIntervalSeconds } = this.config.verification.expected;
    const next = nextExpectedAsk(now, followUntil, minIntervalSeconds, maxIntervalSeconds);
    if (answer.kind === 'answered' && answer.status !== 'pending') {
      const result = `the provider reports ${answer.providerStatus} (${answer.status})`;
      return {
        nextAt: null,
        close: { state: 'settled', finalStatus: answer.status, result },
        note: result,
      };
    }
    if (answer.kind === 'no-answer') return { nextAt: next, note: 'no usable answer yet' };
    const said =
      answer.kind === 'answered'
        ? `the provider reports ${answer.providerStatus} (pending)`
        : `the provider does not know it: ${answer.reason}`;
    if (next) return { nextAt: next, note: said };
    return {
      nextAt: null,
      close: {
        state: answer.kind === 'answered' ? 'overdue' : 'unknown',
        finalStatus: null,
        result: `after its expiry ${said}`,
      },
      note: said,
    };
  }

  /** Applies a decision once the inquiry's outcome is stored (closing, metrics, logs). */
  async settle(key: TransactionKey, decision: FollowDecision): Promise<void> {
    if (!decision.close) {
      await this.store.note(key, decision.note);
      return;
    }
    const closed = await this.store.close(key, decision.close);
    if (!closed) return;
    const what = `${key.provider} expected payment ${key.transactionKey}`;
    if (decision.close.state === 'settled') {
      if (closed.foundByInquiry) {
        this.foundByInquiry.inc({ provider: key.provider });
        this.logger.warn(
          `${what} reached ${decision.close.finalStatus} by inquiry without any callback: check the callback URL registered with ${key.provider}`,
        );
      }
    } else {
      this.logger.error(`${what}: ${decision.close.result}; listed for an operator`);
    }
  }
}
