import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import proxyAddr from 'proxy-addr';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { SHARED_KEY_OPERATOR } from '../config/operators-file.js';
import type { Operator } from './operator.js';
import { type OperatorEntry, readOperatorsFile } from '../config/operators-file.js';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** How often the operators file's metadata is checked (a Secret's symlink swap included). */
const WATCH_INTERVAL_MS = 1_000;

/**
 * The operators who may use the admin API and the console: the shared ADMIN_API_KEY as
 * `admin` (role operator), the named operators of OPERATORS_FILE, and the trusted proxy's
 * identity header. The file is re-read when it changes and on SIGHUP; a file that fails
 * validation changes nothing (logged with every problem, never a value).
 */
@Injectable()
export class OperatorDirectory implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Operators');
  private entries: OperatorEntry[] = [];
  private readonly trustedPeer: ((address: string, hop: number) => boolean) | null;
  private readonly onSighup = () => this.reload('SIGHUP');

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    const file = config.admin?.operatorsFile;
    if (file) this.entries = readOperatorsFile(file).operators;
    const proxies = config.http.trustedProxies;
    this.trustedPeer =
      config.admin?.identityHeader && proxies.length > 0 ? proxyAddr.compile(proxies) : null;
  }

  onApplicationBootstrap(): void {
    const file = this.config.admin?.operatorsFile;
    if (!file) return;
    watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, () =>
      this.reload('changed'),
    );
    process.on('SIGHUP', this.onSighup);
  }

  onModuleDestroy(): void {
    const file = this.config.admin?.operatorsFile;
    if (file) unwatchFile(file);
    process.off('SIGHUP', this.onSighup);
  }

  /** Reads OPERATORS_FILE again; returns false (and keeps the running list) when it is refused. */
  reload(reason: 'changed' | 'SIGHUP'): boolean {
    const file = this.config.admin?.operatorsFile;
    if (!file) return false;
    const read = readOperatorsFile(file);
    if (read.problems.length > 0) {
      this.logger.error(
        `Operators file ${file} not applied (${reason}); the running operators stay:\n  - ${read.problems.join('\n  - ')}`,
      );
      return false;
    }
    this.entries = read.operators;
    this.logger.log(
      `Operators file ${file} reloaded (${reason}): ${read.operators.map((o) => `${o.name} (${o.role})`).join(', ') || 'none'}`,
    );
    return true;
  }

  /** The operator a key belongs to. Every configured digest is compared, in constant time. */
  byKey(key: string): Operator | null {
    const presented = digest(key);
    let found: Operator | null = null;
    const shared = this.config.admin?.apiKey;
    if (shared && timingSafeEqual(presented, digest(shared)))
      found = { name: SHARED_KEY_OPERATOR, role: 'operator', via: 'shared-key' };
    for (const entry of this.entries) {
      if (entry.keySha256 === null) continue;
      if (timingSafeEqual(presented, Buffer.from(entry.keySha256, 'hex')) && !found)
        found = { name: entry.name, role: entry.role, via: 'key' };
    }
    return found;
  }

  /**
   * The operator named by the trusted proxy's identity header: only when the request's peer is
   * one of TRUSTED_PROXIES, and only a name listed in the operators file (its role from there).
   */
  byProxy(req: IncomingMessage): Operator | null {
    const header = this.config.admin?.identityHeader;
    if (!header || !this.trustedPeer) return null;
    const value = req.headers[header];
    const peer = req.socket.remoteAddress;
    if (typeof value !== 'string' || !peer || !this.trustedPeer(peer, 0)) return null;
    const entry = this.entries.find((e) => e.name.toLowerCase() === value.trim().toLowerCase());
    return entry ? { name: entry.name, role: entry.role, via: 'proxy' } : null;
  }

  /**
   * What a console session of `name` is signed with: the stored digest of that operator's key
   * (the shared key's digest for `admin`). A new key ends the operator's sessions; every replica
   * derives the same value.
   */
  sessionSecret(name: string): { operator: Operator; secret: Buffer } | null {
    const shared = this.config.admin?.apiKey;
    if (name === SHARED_KEY_OPERATOR) {
      return shared
        ? {
            operator: { name, role: 'operator', via: 'session' },
            secret: digest(`console-session:${shared}`),
          }
        : null;
    }
    const entry = this.entries.find((e) => e.name === name);
    if (!entry?.keySha256) return null;
    return {
      operator: { name: entry.name, role: entry.role, via: 'session' },
      secret: digest(`console-session:${entry.keySha256}`),
    };
  }
}

/** Global: the admin API's guard and the console both recognise operators through it. */
@Global()
@Module({ providers: [OperatorDirectory], exports: [OperatorDirectory] })
export class OperatorsModule {}
