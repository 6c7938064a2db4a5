import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import type { TransactionCloudEvent, TransactionEvent } from '../events/transaction-event.js';
import { OutboxRelay } from '../messaging/outbox-relay.js';
import { SqlDialect } from '../persistence/sql-dialect.js';
import { StatusApiRegistry } from './status-api.registry.js';
import { judge } from './verdict.js';
import { VerificationService } from './verification.service.js';
import {
  claimOfEvent,
  queryOfEvent,
  recordInquiry,
  transactionOfEvent,
} from './verification.store.js';

/** Transactions one replica claims per run. */
const RECONCILE_BATCH = 50;
/** How long a claimed transaction stays reserved for the replica asking about it. */
const RECONCILE_LEASE_MS = 120_000;

interface ClaimedTransaction {
  provider: string;
  account: string;
  transaction_key: string;
}

/**
 * Reconciliation: every RECONCILE_INTERVAL_SECONDS, asks the provider about transactions still
 * `pending` after RECONCILE_AFTER_SECONDS and younger than RECONCILE_MAX_AGE_HOURS (each at most
 * once per interval, claimed by one replica). A changed status becomes a stored record (method
 * INQUIRY, raw = the provider's answer) and an event with verification method `reconciliation`:
 * this recovers a callback that never arrived (NICEPAY has no resend API).
 */
@Injectable()
export class ReconciliationService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Reconciliation');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;
  private stopping = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly sql: SqlDialect,
    private readonly apis: StatusApiRegistry,
    private readonly verification: VerificationService,
    private readonly relay: OutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.verification.reconcile.intervalSeconds * 1000;
    this.timer = setInterval(() => void this.run(), every);
    this.timer.unref();
  }

  /** One pass; resolves with the number of transactions asked about. */
  run(): Promise<number> {
    if (this.running || this.stopping) return this.running ?? Promise.resolve(0);
    this.running = this.pass()
      .catch((error: unknown) => {
        this.logger.warn(`Reconciliation interrupted: ${(error as Error).message}`);
        return 0;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<number> {
    const providers = this.apis
      .all()
      .filter((api) => api.isEnabled())
      .map((api) => api.provider);
    if (providers.length === 0) return 0;
    const owner = this.relay.instanceId;
    const claimed = await this.claim(owner, providers);
    for (const transaction of claimed) {
      if (this.stopping) break;
      const result = await this.reconcile(transaction).catch(
        (error: unknown) => `error: ${(error as Error).message}`,
      );
      await this.sql.query(
        `UPDATE reconciliations SET lease_owner = NULL, lease_until = NULL, last_result = ?
         WHERE provider = ? AND account = ? AND transaction_key = ? AND lease_owner = ?`,
        [
          result.slice(0, 1000),
          transaction.provider,
          transaction.account,
          transaction.transaction_key,
          owner,
        ],
      );
    }
    return claimed.length;
  }

  /** Leases due pending transactions: a row per transaction, taken only when its lease is free. */
  private async claim(owner: string, providers: string[]): Promise<ClaimedTransaction[]> {
    const { afterSeconds, maxAgeHours, intervalSeconds } = this.config.verification.reconcile;
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    return this.sql.query<ClaimedTransaction>(
      `INSERT INTO reconciliations (provider, account, transaction_key, checked_at, checks, lease_owner, lease_until)
       SELECT t.provider, t.account, t.transaction_key, ?, 1, ?, ?
       FROM transactions t
       LEFT JOIN reconciliations r
         ON r.provider = t.provider AND r.account = t.account AND r.transaction_key = t.transaction_key
       WHERE t.status = 'pending' AND t.provider IN (${providers.map(() => '?').join(', ')})
         AND t.updated_at <= ? AND t.created_at >= ?
         AND (r.checked_at IS NULL OR r.checked_at <= ?)
         AND (r.lease_until IS NULL OR r.lease_until < ?)
       ORDER BY t.updated_at LIMIT ?
       ON CONFLICT (provider, account, transaction_key) DO UPDATE
         SET checked_at = excluded.checked_at, checks = reconciliations.checks + 1,
             lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
         WHERE reconciliations.lease_until IS NULL OR reconciliations.lease_until < ?
       RETURNING provider, account, transaction_key`,
      [
        iso(now),
        owner,
        iso(now + RECONCILE_LEASE_MS),
        ...providers,
        iso(now - afterSeconds * 1000),
        iso(now - maxAgeHours * 3_600_000),
        iso(now - intervalSeconds * 1000 + 500),
        iso(now),
        RECONCILE_BATCH,
        iso(now),
      ],
    );
  }

  /** The event of the transaction's latest stored observation: what to ask the provider with. */
  private async latestEvent(transaction: ClaimedTransaction): Promise<TransactionEvent | null> {
    const [row] = await this.sql.query<{ payload: string; routing_key: string }>(
      `SELECT o.payload, o.routing_key FROM transactions t
       JOIN outbox o ON o.callback_id = t.last_callback_id
       WHERE t.provider = ? AND t.account = ? AND t.transaction_key = ?
       ORDER BY o.created_at DESC LIMIT 1`,
      [transaction.provider, transaction.account, transaction.transaction_key],
    );
    if (!row) return null;
    const body = JSON.parse(row.payload) as TransactionCloudEvent;
    return {
      id: body.id,
      type: body.type,
      routingKey: row.routing_key,
      provider: transaction.provider,
      body,
    };
  }

  private async reconcile(transaction: ClaimedTransaction): Promise<string> {
    const api = this.verification.verifierFor(transaction.provider);
    if (!api) return 'verification off';
    const event = await this.latestEvent(transaction);
    if (!event) return 'no stored event to ask with';
    const answer = await this.verification.ask(api, transaction.account, queryOfEvent(event));
    if (answer === null) return 'provider breaker open';
    if (answer.kind !== 'found') {
      this.verification.results.inc({
        provider: api.provider,
        result: answer.kind === 'unknown' ? 'conflicted' : answer.kind,
      });
      return `${answer.kind}: ${answer.reason}`;
    }
    const report = answer.report;
    const verdict = judge({ ...claimOfEvent(event), status: report.status }, report);
    if (verdict.outcome === 'conflicted') {
      this.logger.error(
        `${transaction.provider} transaction ${transaction.transaction_key}: ${verdict.reason}; not applied`,
      );
      this.verification.results.inc({ provider: api.provider, result: 'conflicted' });
      return `conflicted: ${verdict.reason}`;
    }
    if (report.status === 'pending') {
      this.verification.results.inc({ provider: api.provider, result: 'still-pending' });
      return `still pending (${report.providerStatus})`;
    }
    const lease = this.relay.leaseForNewRow();
    const result = await this.sql.transact((context) =>
      recordInquiry(
        context,
        {
          provider: transaction.provider,
          account: transaction.account,
          transactionKey: transaction.transaction_key,
          transaction: {
            ...transactionOfEvent(event),
            status: report.status,
            providerStatus: report.providerStatus,
          },
          report,
          method: 'reconciliation',
          at: new Date(),
        },
        lease,
      ),
    );
    this.verification.results.inc({ provider: api.provider, result: 'reconciled' });
    if (result.outbox) this.verification.publish([result.outbox], lease);
    this.logger.log(
      `${transaction.provider} transaction ${transaction.transaction_key} reconciled: the provider reports ${report.status} (${result.verdict})`,
    );
    return `${report.status}: ${result.verdict}`;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }
}
