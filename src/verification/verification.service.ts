import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type NormalizedTransaction, transactionKeyOf } from '../events/normalized-transaction.js';
import type { TransactionEvent } from '../events/transaction-event.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import type { OutboxRecord } from '../outbox/outbox-record.js';
import type { AcceptedCallbackRecord } from '../transactions/callback-store.js';
import { ExpectedPaymentsService, type FollowedAnswer } from './expected-payments.service.js';
import { Breaker, RateLimiter, retryDelayMs } from './pacing.js';
import type {
  InquiryAnswer,
  ProviderReport,
  ProviderStatusApi,
  StatusQuery,
} from './status-api.js';
import { StatusApiRegistry } from './status-api.registry.js';
import { answerProblem, judge } from './verdict.js';
import {
  claimOfHint,
  HINT_PAGE,
  type Hint,
  type HintVerdict,
  type InquiryRecord,
  type Lease,
  queryOfEvent,
  type ScheduleRelease,
  type ScheduledInquiry,
  type TransactionKey,
  VerificationStore,
} from './verification.store.js';

/** How long a claimed transaction stays reserved for the replica asking (> inquiry timeout + waits). */
const INQUIRY_LEASE_MS = 60_000;
/** Consecutive failed inquiries that open a provider's breaker. */
const BREAKER_THRESHOLD = 5;
/** Shortest pause between two sweeps asked for by finished inquiries. */
const SWEEP_DEBOUNCE_MS = 50;
/** Transactions one sweep claims per free worker slot. */
const CLAIM_PER_SLOT = 4;

export type VerificationResult =
  | 'confirmed'
  | 'contradicted'
  | 'conflicted'
  | 'unavailable'
  | 'refused'
  | 'incomplete'
  | 'unconfirmed'
  | 'reconciled'
  | 'still-pending'
  | 'unknown-expected';

/** What the provider answered, as an operator reads it (admin "verify now"). */
export interface AnswerSummary {
  kind: InquiryAnswer['kind'];
  reason: string | null;
  status: string | null;
  providerStatus: string | null;
  providerTransactionId: string | null;
  merchantReference: string | null;
  amount: string | null;
  currency: string | null;
}

/** One inquiry about one transaction: what was asked, what the provider said, what was decided. */
export interface InquiryOutcome {
  asked: boolean;
  answer: AnswerSummary | null;
  decision: string;
  /** The event written from the answer, when the answer moved the transaction's state. */
  eventId: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function summarize(answer: InquiryAnswer): AnswerSummary {
  if (answer.kind !== 'found') {
    return {
      kind: answer.kind,
      reason: answer.reason,
      status: null,
      providerStatus: null,
      providerTransactionId: null,
      merchantReference: null,
      amount: null,
      currency: null,
    };
  }
  const r = answer.report;
  return {
    kind: 'found',
    reason: null,
    status: r.status,
    providerStatus: r.providerStatus,
    providerTransactionId: r.providerTransactionId,
    merchantReference: r.merchantReference,
    amount: r.amount,
    currency: r.currency,
  };
}

/** Hints grouped by the inquiry their fields ask (ProviderStatusApi.queryKey), oldest group first. */
function groupByQuery(
  api: ProviderStatusApi,
  hints: Hint[],
): Array<{ query: StatusQuery; hints: Hint[] }> {
  const groups = new Map<string, { query: StatusQuery; hints: Hint[] }>();
  for (const hint of hints) {
    const query = queryOfEvent(hint.event);
    const key = api.queryKey(query);
    const group = groups.get(key);
    if (group) group.hints.push(hint);
    else groups.set(key, { query, hints: [hint] });
  }
  return [...groups.values()];
}

/**
 * The event as the provider's answer states it: status, amounts, reference, method and channel
 * come from the answer alone (raw = the answer); the provider's id is the one asked about when
 * the answer does not repeat it. Nothing of the callback that prompted the inquiry is in it.
 */
export function transactionFromAnswer(
  report: ProviderReport,
  query: StatusQuery,
): NormalizedTransaction {
  const occurredAt = report.occurredAt ? new Date(report.occurredAt) : null;
  return {
    domain: 'payment',
    status: report.status,
    providerStatus: report.providerStatus,
    providerTransactionId: report.providerTransactionId ?? query.providerTransactionId,
    merchantReference: report.merchantReference ?? query.merchantReference,
    amount: report.amount,
    currency: (report.currency ?? query.currency).toUpperCase(),
    fee: report.fee ?? null,
    paymentMethod: report.paymentMethod ?? null,
    channel: report.channel ?? null,
    product: null,
    occurredAt: occurredAt && !Number.isNaN(occurredAt.getTime()) ? occurredAt : null,
    raw: report.raw,
    refundedTotal: report.refundedTotal ?? null,
  };
}

/**
 * The provider's answer is the event; a callback is a hint. For a provider whose scheme cannot
 * prove status and amount, each authentic callback is stored (`verifying`) and acknowledged, and
 * schedules its transaction. One inquiry at a time per transaction (leased across replicas,
 * bounded concurrency, a rate limit per account, backoff with jitter, a breaker per provider)
 * asks the provider; a complete answer about that transaction is applied to its state — the
 * event is built from the answer — and settles every hint that was waiting. A hint never holds an
 * event's place, so a forged or early one can neither block nor double the genuine event.
 */
@Injectable()
export class VerificationService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Verification');
  private readonly limiter: RateLimiter;
  private readonly breaker: Breaker;
  private readonly queue: ScheduledInquiry[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private leaseSeq = 0;
  private sweepSoon: NodeJS.Timeout | undefined;
  private stopping = false;
  readonly results: Counter<'provider' | 'result'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: VerificationStore,
    private readonly apis: StatusApiRegistry,
    private readonly relay: OutboxRelay,
    private readonly expected: ExpectedPaymentsService,
    metrics: GatewayMetrics,
  ) {
    const { ratePerSecond, retryMaxSeconds } = config.verification;
    this.limiter = new RateLimiter(ratePerSecond);
    this.breaker = new Breaker(BREAKER_THRESHOLD, retryMaxSeconds * 1000);
    this.results = new Counter({
      name: 'gateway_verifications_total',
      help: 'Status inquiries and hints by provider and result (hints: confirmed, contradicted, conflicted, unconfirmed; inquiries: unavailable, refused, incomplete; reconciliation: reconciled, still-pending)',
      labelNames: ['provider', 'result'] as const,
      registers: [metrics.registry],
    });
    const backlog = () => this.store.backlog();
    new Gauge({
      name: 'gateway_verification_oldest_seconds',
      help: 'Age of the oldest callback (hint) still waiting for its provider to answer (0 when none)',
      registers: [metrics.registry],
      async collect() {
        const { oldestCreatedAt } = await backlog().catch(() => ({ oldestCreatedAt: null }));
        this.set(oldestCreatedAt ? (Date.now() - oldestCreatedAt.getTime()) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'gateway_verification_backlog',
      help: 'Callbacks (hints) still waiting for their provider to answer',
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

  /**
   * The status API that must confirm this provider's callbacks (this account's, when given);
   * undefined when none must.
   */
  verifierFor(provider: string, account?: string): ProviderStatusApi | undefined {
    const api = this.apis.enabled(provider);
    if (api && account !== undefined && api.verifiesAccount && !api.verifiesAccount(account))
      return undefined;
    return api;
  }

  private enabledProviders(): string[] {
    return this.apis
      .all()
      .filter((api) => api.isEnabled())
      .map((api) => api.provider);
  }

  /**
   * Ingest, for a provider that is verified: stores the callback as a hint and schedules its
   * transaction; the inquiry runs after the commit. The ack never waits for it.
   */
  async storeHint(
    callback: AcceptedCallbackRecord,
    event: TransactionEvent,
  ): Promise<'verifying' | 'duplicate'> {
    // A token of its own, so the replica knows which of its hints' upserts took the lease.
    this.leaseSeq += 1;
    const lease = {
      owner: `${this.relay.instanceId}#${this.leaseSeq}`,
      until: new Date(Date.now() + INQUIRY_LEASE_MS),
    };
    const stored = await this.store.storeHint(callback, event, lease);
    // Leased right away when nobody was asking about the transaction: no claim query needed.
    if (stored.leased && !this.stopping) this.enqueue(stored.leased);
    return stored.outcome;
  }

  /**
   * Admin renormalize of a quarantined callback of a verified provider that now passes validation:
   * it becomes a hint like any other (the provider is asked; its answer is the event).
   */
  async hintFromQuarantine(
    callback: Parameters<VerificationStore['hintFromQuarantine']>[0],
    event: TransactionEvent,
  ): Promise<'verifying' | 'duplicate' | null> {
    const outcome = await this.store.hintFromQuarantine(callback, event);
    if (outcome === 'verifying' && !this.stopping) void this.sweep();
    return outcome;
  }

  /** Claims due transactions (free or expired leases) while worker slots are free. */
  sweep(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      try {
        do {
          this.sweepAgain = false;
          const free =
            this.config.verification.concurrency - this.inFlight.size - this.queue.length;
          if (free <= 0) return;
          const claimed = await this.store.claim(
            this.relay.instanceId,
            INQUIRY_LEASE_MS,
            free * CLAIM_PER_SLOT,
            this.enabledProviders(),
          );
          for (const transaction of claimed) this.enqueue(transaction);
        } while (this.sweepAgain && !this.stopping);
      } catch (error) {
        this.logger.warn(`Verification sweep interrupted: ${(error as Error).message}`);
      }
    })().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  /** A sweep soon, at most one per SWEEP_DEBOUNCE_MS however many ask for one. */
  private requestSweep(): void {
    if (this.sweepSoon || this.stopping) return;
    this.sweepSoon = setTimeout(() => {
      this.sweepSoon = undefined;
      void this.sweep();
    }, SWEEP_DEBOUNCE_MS);
    this.sweepSoon.unref();
  }

  private enqueue(transaction: ScheduledInquiry): void {
    this.queue.push(transaction);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight.size < this.config.verification.concurrency && this.queue.length > 0) {
      const transaction = this.queue.shift()!;
      const run: Promise<void> = this.inquire(
        transaction,
        transaction.owner ?? this.relay.instanceId,
      )
        .then(() => undefined)
        .catch((error: unknown) => {
          // Left leased: another sweep takes it again once the lease has expired.
          this.logger.warn(
            `Inquiry about ${transaction.provider} transaction ${transaction.transactionKey} failed: ${(error as Error).message}`,
          );
        })
        .finally(() => {
          this.inFlight.delete(run);
          this.pump();
          // A hint that arrived while this inquiry was in flight made its transaction due again.
          if (this.queue.length === 0) this.requestSweep();
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

  private count(provider: string, result: VerificationResult, by = 1): void {
    if (by > 0) this.results.inc({ provider, result }, by);
  }

  /** The next re-ask after a contradicted claim: step `step` of VERIFY_RECHECK_SECONDS, or none. */
  private recheckAt(step: number): Date | null {
    const seconds = this.config.verification.recheckSeconds[step];
    return seconds === undefined ? null : new Date(Date.now() + seconds * 1000);
  }

  /**
   * One inquiry about one claimed transaction, and everything that follows from its answer,
   * written in one database transaction with the schedule's release (VerificationStore.finish).
   */
  private async inquire(tx: ScheduledInquiry, owner: string): Promise<InquiryOutcome> {
    const api = this.verifierFor(tx.provider);
    const retryMaxSeconds = this.config.verification.retryMaxSeconds;
    const keep = { attempts: tx.attempts, incomplete: tx.incomplete, recheckStep: tx.recheckStep };
    // Copies with new members by Object.assign, never `{ ...keep, nextAt }`: on Node 20 such a
    // spread gets a new hidden class per call, slow to build and to read (issue 28).
    const notAsked = async (decision: string, nextAt: Date | null): Promise<InquiryOutcome> => {
      await this.store.release(
        tx,
        owner,
        Object.assign({}, keep, { nextAt, asked: false, result: decision }),
      );
      return { asked: false, answer: null, decision, eventId: null };
    };
    if (!api || this.stopping) {
      return notAsked(
        'not asked: verification is off for this provider (or the gateway is stopping)',
        new Date(Date.now() + retryMaxSeconds * 1000),
      );
    }

    // What to ask with: the inquiry the provider last answered completely, else the oldest
    // waiting hint's, else (a transaction from before hints) its latest stored event's.
    const hints = await this.store.waitingHints(tx, HINT_PAGE);
    const groups = groupByQuery(api, hints);
    let query = tx.query;
    let group: Hint[] | null = null;
    if (!query && groups.length > 0) {
      query = groups[0].query;
      group = groups[0].hints;
    }
    // An expected payment before any callback or answer: what the order service said it created.
    const fromExpected = !query && tx.followUntil !== null;
    if (!query && tx.followUntil) query = await this.expected.queryOf(tx);
    if (!query) {
      const latest = await this.store.latestEvent(tx);
      if (latest) query = queryOfEvent(latest);
    }
    if (!query) return notAsked('not asked: nothing is known to ask the provider with', null);

    const askedAt = new Date();
    const answer = await this.ask(api, tx.account, query);
    if (answer === null) {
      return notAsked(
        `not asked: ${api.provider} breaker open (too many failed inquiries)`,
        new Date(Date.now() + retryMaxSeconds * 1000),
      );
    }
    const summary = summarize(answer);
    const where = `${api.provider} transaction ${tx.transactionKey}`;
    /** Writes the outcome; null when another replica took the transaction over meanwhile. */
    const finish = async (
      decision: string,
      release: Omit<ScheduleRelease, 'asked' | 'result'>,
      work: {
        record?: InquiryRecord;
        lease?: Lease | null;
        verdicts?: (answerId: string | null, waiting: Hint[]) => HintVerdict[];
        /** What this inquiry found for an expected payment of the transaction, if it has one. */
        followed?: FollowedAnswer;
      } = {},
    ): Promise<InquiryOutcome & { settled: number; verdict?: string }> => {
      // A followed (expected) transaction is asked on its own schedule too, whichever is sooner.
      const follow = tx.followUntil
        ? this.expected.decide(tx.followUntil, work.followed ?? { kind: 'no-answer' })
        : null;
      const nextAt =
        follow?.nextAt && (!release.nextAt || follow.nextAt < release.nextAt)
          ? follow.nextAt
          : release.nextAt;
      const done = await this.store.finish(
        tx,
        owner,
        Object.assign({}, work, {
          cutoff: askedAt,
          release: Object.assign({}, release, { nextAt, asked: true, result: decision }),
        }),
      );
      if (done !== null && follow) await this.expected.settle(tx, follow);
      if (done === null) {
        return {
          asked: true,
          answer: summary,
          decision: 'lease lost: another replica took over',
          eventId: null,
          settled: 0,
        };
      }
      if (done.outbox && work.lease !== undefined) this.publish([done.outbox], work.lease);
      return {
        asked: true,
        answer: summary,
        decision,
        eventId: done.outbox ? (done.event?.id ?? null) : null,
        settled: done.settled,
        verdict: done.verdict,
      };
    };
    /** Refutes the hints of one query group (those of other groups wait for their own inquiry). */
    const refute = (of: Hint[], detail: string) => {
      const ids = new Set(of.map((hint) => hint.callbackId));
      return () =>
        of
          .filter((hint) => ids.has(hint.callbackId))
          .map((hint) => ({ callbackId: hint.callbackId, state: 'conflicted' as const, detail }));
    };

    if (answer.kind === 'unavailable' || answer.kind === 'refused') {
      const attempts = tx.attempts + 1;
      const delay = retryDelayMs(attempts, retryMaxSeconds);
      const line = `${api.provider} inquiry about ${tx.transactionKey} (attempt ${attempts}) ${answer.kind}: ${answer.reason}; retry in ${Math.round(delay / 1000)} s`;
      if (answer.kind === 'refused') this.logger.error(line);
      else this.logger.warn(line);
      this.count(api.provider, answer.kind);
      return finish(
        `${answer.kind}: ${answer.reason}`,
        Object.assign({}, keep, {
          attempts,
          nextAt: new Date(Date.now() + delay),
          error: answer.reason,
        }),
      );
    }

    const incomplete = async (reason: string): Promise<InquiryOutcome> => {
      const count = tx.incomplete + 1;
      if (count < this.config.verification.incompleteAttempts) {
        const delay = retryDelayMs(count, retryMaxSeconds);
        this.logger.warn(`${where}: ${reason}; asked again in ${Math.round(delay / 1000)} s`);
        this.count(api.provider, 'incomplete');
        return finish(
          `incomplete: ${reason}`,
          Object.assign({}, keep, {
            attempts: tx.attempts + 1,
            incomplete: count,
            nextAt: new Date(Date.now() + delay),
            error: reason,
          }),
        );
      }
      // Held for an operator: listed as unconfirmed, never published on such an answer.
      const detail = `held for an operator after ${count} answers: ${reason}`;
      const held = await finish(
        `unconfirmed: ${reason}`,
        { attempts: 0, incomplete: 0, recheckStep: null, nextAt: null, error: reason },
        {
          verdicts: (_answer, waiting) =>
            waiting.map((hint) => ({
              callbackId: hint.callbackId,
              state: 'unconfirmed' as const,
              detail,
            })),
        },
      );
      this.logger.error(
        `${where}: ${reason} (${count} times); ${held.settled} callback(s) held as unconfirmed for an operator`,
      );
      this.count(api.provider, 'unconfirmed', held.settled);
      return held;
    };

    if (answer.kind === 'unknown') {
      if (fromExpected) {
        this.count(api.provider, 'unknown-expected');
        return finish(
          `unknown: ${answer.reason}`,
          Object.assign({}, keep, { attempts: 0, nextAt: null }),
          { followed: { kind: 'unknown', reason: answer.reason } },
        );
      }
      if (!group) return incomplete(`the provider does not know it any more (${answer.reason})`);
      // The provider does not know the transaction as these hints describe it: they are refuted.
      const detail = `the provider does not confirm the transaction as this callback describes it: ${answer.reason}`;
      const others = groups.length > 1;
      const recheckStep = tx.recheckStep ?? 0;
      const refuted = await finish(
        `conflicted: ${answer.reason}`,
        {
          attempts: 0,
          incomplete: tx.incomplete,
          recheckStep: others ? tx.recheckStep : recheckStep,
          nextAt: others ? new Date() : this.recheckAt(recheckStep),
        },
        { verdicts: refute(group, detail) },
      );
      this.count(api.provider, 'conflicted', refuted.settled);
      this.logger.error(
        `${where}: ${refuted.settled} callback(s) conflict with the provider, nothing published: ${answer.reason}`,
      );
      return refuted;
    }

    const report = answer.report;
    const transaction = transactionFromAnswer(report, query);
    // A transaction keyed in the provider's other id space (S88Pay without transaction_no).
    const tagged = { ...transaction, identifiedBy: 'taggedMerchantReference' as const };
    if (transactionKeyOf(tagged) === tx.transactionKey)
      transaction.identifiedBy = tagged.identifiedBy;
    const problem =
      answerProblem(report, query, api.requiredFacts) ??
      (transactionKeyOf(transaction) !== tx.transactionKey
        ? {
            kind: 'other' as const,
            reason: `the provider's answer is about transaction ${transactionKeyOf(transaction)}`,
          }
        : null);
    if (problem?.kind === 'incomplete') return incomplete(problem.reason);
    if (problem) {
      if (!group) return incomplete(problem.reason);
      const refuted = await finish(
        `conflicted: ${problem.reason}`,
        {
          attempts: 0,
          incomplete: tx.incomplete,
          recheckStep: tx.recheckStep,
          nextAt: groups.length > 1 ? new Date() : null,
        },
        { verdicts: refute(group, problem.reason) },
      );
      this.count(api.provider, 'conflicted', refuted.settled);
      return refuted;
    }

    // A complete answer about this transaction: it is the event, and it judges every waiting hint.
    const judgeHint = (hint: Hint): HintVerdict => {
      const verdict = judge(
        claimOfHint(hint),
        report,
        api.mismatches?.(queryOfEvent(hint.event), report) ?? [],
      );
      if (verdict.outcome === 'confirmed') {
        return {
          callbackId: hint.callbackId,
          state: 'confirmed',
          detail: `${api.provider} reports ${report.providerStatus} (${report.status})`,
        };
      }
      if (verdict.outcome === 'contradicted') {
        return {
          callbackId: hint.callbackId,
          state: 'contradicted',
          detail: `the callback says ${hint.event.body.data.status}, ${api.provider} reports ${report.providerStatus} (${report.status}): the provider's answer is applied`,
        };
      }
      return {
        callbackId: hint.callbackId,
        state: 'conflicted',
        detail: `${verdict.reason}: the provider's answer is applied, not the callback`,
      };
    };

    // A claim the provider contradicts may be early (the provider lags its own callback): ask
    // again on the bounded schedule. A re-ask in progress goes on to its next step.
    let recheckStep: number | null = null;
    let nextAt: Date | null = null;
    if (hints.some((hint) => judgeHint(hint).state !== 'confirmed')) {
      recheckStep = 0;
      nextAt = this.recheckAt(0);
    } else if (tx.recheckStep !== null) {
      const step = tx.recheckStep + 1;
      nextAt = this.recheckAt(step);
      recheckStep = nextAt ? step : null;
    }
    let judged: HintVerdict[] = [];
    const lease = this.relay.leaseForNewRow();
    const applied = await finish(
      `${report.status} (${report.providerStatus}) applied`,
      { attempts: 0, incomplete: 0, recheckStep, nextAt, query },
      {
        record: Object.assign({}, tx, {
          transaction,
          report,
          method: hints.length > 0 ? ('inquiry' as const) : ('reconciliation' as const),
          at: askedAt,
        }),
        lease,
        verdicts: (_answer, waiting) => (judged = waiting.map(judgeHint)),
        followed: {
          kind: 'answered',
          status: report.status,
          providerStatus: report.providerStatus,
        },
      },
    );
    if (applied.decision.startsWith('lease lost')) return applied;
    const disagreed = judged.filter((verdict) => verdict.state !== 'confirmed').length;
    for (const verdict of judged) this.count(api.provider, verdict.state);
    if (disagreed > 0) {
      this.logger.warn(
        `${where}: ${disagreed} of ${judged.length} callback(s) claim other facts than the provider reports (${report.status}); the provider's answer is what counts`,
      );
    }
    if (judged.length === 0) {
      this.count(api.provider, report.status === 'pending' ? 'still-pending' : 'reconciled');
    }
    const settled = judged.length > 0 ? `; ${judged.length} callback(s) judged` : '';
    return Object.assign({}, applied, {
      decision: `${applied.decision}: ${applied.verdict ?? 'applied'}${settled}`,
    });
  }

  publish(outbox: OutboxRecord[], lease: { owner: string; until: Date } | null): void {
    for (const record of outbox) {
      if (lease) this.relay.publishCommitted(record);
      else void this.relay.sweep();
    }
  }

  /**
   * Admin "verify now" of a hint: asks the provider about its transaction at once, whatever the
   * schedule (a conflicted or unconfirmed hint is judged anew). Null: no such hint; `busy`:
   * another replica is asking right now.
   */
  async verifyNow(
    callbackId: string,
  ): Promise<(InquiryOutcome & { state: string; detail: string | null }) | 'busy' | null> {
    const hint = await this.store.get(callbackId);
    if (!hint) return null;
    await this.store.reopen(callbackId);
    const outcome = await this.askAbout(hint);
    if (outcome === 'busy') return 'busy';
    const after = await this.store.outcomeOf(callbackId);
    return Object.assign({}, outcome, {
      state: after?.state ?? hint.state,
      detail: after?.detail ?? null,
    });
  }

  /** Asks the provider about one transaction now (admin). `busy`: another replica is asking. */
  async askAbout(key: TransactionKey): Promise<InquiryOutcome | 'busy'> {
    const owner = `${this.relay.instanceId}:admin`;
    const tx = await this.store.claimNow(key, owner, INQUIRY_LEASE_MS);
    if (!tx) return 'busy';
    return this.inquire(tx, owner);
  }

  /**
   * Admin "publish without verification", for an operator who checked with the provider by hand:
   * only a hint still waiting or unconfirmed (never one the provider refuted); its event says
   * `verification.method: "operator"` with who and why.
   */
  async publishUnverified(
    callbackId: string,
    reason: string,
    by: string,
  ): Promise<{ eventId: string | null; verdict: string } | null> {
    const lease = this.relay.leaseForNewRow();
    const at = new Date().toISOString();
    const result = await this.store.publishByOperator(
      callbackId,
      { method: 'operator', at, by, reason },
      lease,
    );
    if (!result) return null;
    this.logger.warn(
      `Callback ${callbackId} published without the provider's confirmation by ${by}: ${reason}`,
    );
    if (result.outbox) this.publish([result.outbox], lease);
    return { eventId: result.outbox?.eventId ?? null, verdict: result.verdict };
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweepTimer);
    clearTimeout(this.sweepSoon);
    await this.sweeping;
    // Queued work is simply left leased: its lease expires and a sweep takes it again.
    this.queue.length = 0;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
