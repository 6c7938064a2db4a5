import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { SqlDialect } from '../persistence/sql-dialect.js';
import { StatusApiRegistry } from './status-api.registry.js';
import { VerificationService } from './verification.service.js';
import { type TransactionKey, VerificationStore } from './verification.store.js';

/** Transactions one run schedules at most. */
const RECONCILE_BATCH = 50;

/**
 * Reconciliation: every RECONCILE_INTERVAL_SECONDS, schedules an inquiry about each transaction
 * of a verified provider still `pending` after RECONCILE_AFTER_SECONDS and younger than
 * RECONCILE_MAX_AGE_HOURS (each at most once per interval). The inquiry itself runs through the
 * same per-transaction schedule and lease as every other (VerificationService), so two replicas
 * never ask about one transaction at once; a changed status is applied from the provider's answer
 * with verification method `reconciliation`. This recovers a callback that never arrived.
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
    private readonly store: VerificationStore,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.verification.reconcile.intervalSeconds * 1000;
    this.timer = setInterval(() => void this.run(), every);
    this.timer.unref();
  }

  /** One pass; resolves with the number of transactions scheduled. */
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
    // Per verified provider: all its accounts, or only those whose callbacks its status API
    // confirms (SNAP: the families that do not sign the body).
    const scopes: string[] = [];
    const scopeParams: string[] = [];
    for (const api of this.apis.all().filter((candidate) => candidate.isEnabled())) {
      const accounts = api.verifiedAccounts?.() ?? null;
      if (accounts === null) {
        scopes.push('t.provider = ?');
        scopeParams.push(api.provider);
      } else if (accounts.length > 0) {
        scopes.push(`(t.provider = ? AND t.account IN (${accounts.map(() => '?').join(', ')}))`);
        scopeParams.push(api.provider, ...accounts);
      }
    }
    if (scopes.length === 0) return 0;
    const { afterSeconds, maxAgeHours, intervalSeconds } = this.config.verification.reconcile;
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const due = await this.sql.query<{
      provider: string;
      account: string;
      transaction_key: string;
    }>(
      `SELECT t.provider, t.account, t.transaction_key
       FROM transactions t
       LEFT JOIN inquiry_schedule s
         ON s.provider = t.provider AND s.account = t.account AND s.transaction_key = t.transaction_key
       WHERE t.status = 'pending' AND (${scopes.join(' OR ')})
         AND t.updated_at <= ? AND t.created_at >= ?
         AND (s.provider IS NULL OR ((s.checks = 0 OR s.checked_at <= ?) AND s.next_at IS NULL))
       ORDER BY t.updated_at LIMIT ?`,
      [
        ...scopeParams,
        iso(now - afterSeconds * 1000),
        iso(now - maxAgeHours * 3_600_000),
        iso(now - intervalSeconds * 1000 + 500),
        RECONCILE_BATCH,
      ],
    );
    const keys: TransactionKey[] = due.map((row) => ({
      provider: row.provider,
      account: row.account,
      transactionKey: row.transaction_key,
    }));
    const scheduled = await this.store.schedule(keys);
    if (scheduled > 0) void this.verification.sweep();
    return scheduled;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }
}
