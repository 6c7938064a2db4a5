import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import { describeChanges, providerSections, type ProvidersConfig } from './accounts.js';
import { readAccountsFile } from './accounts-file.js';
import { ConfigurationError } from './environment.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway-config.js';

/** Events of one update (a Secret swaps a symlink, editors write twice) are read once. */
const DEBOUNCE_MS = 100;
/** Safety net where file events are not delivered (some network and overlay filesystems). */
const POLL_MS = 5_000;

/** A change that takes an authorization away (see describeChanges). */
const REMOVAL = / removed$| disabled$|-key /;

/** Providers that had accounts before and have none after. */
export function emptiedProviders(before: ProvidersConfig, after: ProvidersConfig): string[] {
  const was = providerSections(before);
  const is = providerSections(after);
  return [...was.keys()].filter(
    (name) =>
      (was.get(name)?.accounts.length ?? 0) > 0 && (is.get(name)?.accounts.length ?? 0) === 0,
  );
}

export type ReloadResult = 'applied' | 'unchanged' | 'refused';

function digestOf(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

/**
 * Re-reads ACCOUNTS_FILE when it changes and on SIGHUP. The directory is watched, not the file: a
 * mounted Kubernetes Secret is updated by swapping a symlink in it, which a watch on the old file
 * would never see. A file that fails validation changes nothing and is logged with every problem
 * (file, account, field; never a value); a valid one replaces the whole account set in one
 * assignment, logged with the account ids and key labels that changed.
 */
@Injectable()
export class AccountsReloader implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Accounts');
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private digest: string | null = null;
  private readonly onSighup = () => void this.reload('SIGHUP');

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const file = this.config.accounts.file;
    if (!file) return;
    this.digest = digestOf(file);
    process.on('SIGHUP', this.onSighup);
    try {
      this.watcher = watch(dirname(file), () => this.schedule());
      this.watcher.on('error', (error) =>
        this.logger.warn(`Watching ${file} failed (${error.message}); polling every ${POLL_MS} ms`),
      );
    } catch (error) {
      this.logger.warn(`Cannot watch ${file} (${(error as Error).message}); polling only`);
    }
    this.poll = setInterval(() => this.schedule(), POLL_MS);
    this.poll.unref();
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onSighup);
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poll) clearInterval(this.poll);
  }

  private schedule(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.reload('changed');
    }, DEBOUNCE_MS);
  }

  /** Reads the file again (on a change only when its content changed; on SIGHUP always). */
  reload(reason: 'changed' | 'SIGHUP'): ReloadResult {
    const file = this.config.accounts.file!;
    const digest = digestOf(file);
    if (reason === 'changed' && digest === this.digest) return 'unchanged';
    // Remembered even when refused: a broken file is reported once, not at every poll.
    this.digest = digest;
    let next;
    try {
      next = this.config.accounts.load();
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      this.metrics.accountReloads.inc({ result: 'refused' });
      this.logger.error(
        `Accounts file ${file} not applied (${reason}); the running accounts stay:\n  - ${error.problems.join('\n  - ')}`,
      );
      return 'refused';
    }
    const emptied = emptiedProviders(this.config.accounts.current, next);
    const allowed = readAccountsFile(file).file?.removeAllAccounts ?? [];
    const refused = emptied.filter((provider) => !allowed.includes(provider));
    if (refused.length > 0) {
      this.metrics.accountReloads.inc({ result: 'refused' });
      this.logger.error(
        `Accounts file ${file} not applied (${reason}); the running accounts stay: it removes every account of ${refused.join(', ')}. ` +
          `If that is meant, list ${refused.length > 1 ? 'them' : 'it'} under removeAllAccounts in the file (docs/accounts.md)`,
      );
      return 'refused';
    }
    const changes = describeChanges(this.config.accounts.current, next);
    this.config.accounts.replace(next);
    this.metrics.accountReloads.inc({ result: changes.length > 0 ? 'applied' : 'unchanged' });
    const text = `Accounts file ${file} reloaded (${reason}): ${changes.length > 0 ? changes.join('; ') : 'no change'}`;
    // A removal (an account, a key, a whole provider) de-authorizes someone: operators must see it.
    if (changes.some((change) => REMOVAL.test(change))) this.logger.warn(text);
    else this.logger.log(text);
    return changes.length > 0 ? 'applied' : 'unchanged';
  }
}

@Module({ providers: [AccountsReloader] })
export class AccountsModule {}
