import type { AddressAllowlist } from '../common/address-allowlist.js';
import { allowlistsByProvider } from '../config/accounts.js';
import type { GatewayConfig } from '../config/gateway-config.js';

const MAX_TRACKED_ADDRESSES = 50_000;

/**
 * Counts refused callback requests (400, 401, 403, 404, 413, 415: whatever the refusal) per
 * client address in a fixed window, and refuses an address that went over the limit (429, before
 * its body is read) until its window ends. An address on a provider's explicit allowlist is never
 * limited — nor counted — on THAT provider's endpoint only: being NICEPAY's address earns nothing
 * on the S88Pay endpoint. Per instance, in memory: enough to make guessing and flooding slow, and
 * nothing to share between replicas.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();
  private readonly exempt: Map<string, AddressAllowlist[]>;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    /** Provider name → its allowlists (`*` lists exempt nobody). */
    exempt: Map<string, AddressAllowlist[]>,
  ) {
    this.exempt = new Map(
      [...exempt].map(([provider, lists]) => [provider, lists.filter((l) => !l.allowsEveryone)]),
    );
  }

  static fromConfig(config: GatewayConfig): AuthFailureLimiter {
    return new AuthFailureLimiter(
      config.http.authFailureLimit,
      config.http.authFailureWindowMs,
      allowlistsByProvider(config.providers),
    );
  }

  private isExempt(address: string, provider: string | undefined): boolean {
    if (provider === undefined) return false;
    return (this.exempt.get(provider) ?? []).some((allowlist) => allowlist.allows(address));
  }

  /** Seconds until the address may try this provider again, or 0 when it is not limited. */
  retryAfter(address: string, provider: string | undefined, now = Date.now()): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    if (now >= entry.resetAt) {
      this.failures.delete(address);
      return 0;
    }
    if (entry.count < this.limit || this.isExempt(address, provider)) return 0;
    return Math.ceil((entry.resetAt - now) / 1000);
  }

  recordFailure(address: string, provider: string | undefined, now = Date.now()): void {
    if (this.isExempt(address, provider)) return;
    const entry = this.failures.get(address);
    if (entry && now < entry.resetAt) {
      entry.count += 1;
      return;
    }
    if (this.failures.size >= MAX_TRACKED_ADDRESSES) {
      // Oldest first: Map keeps insertion order.
      this.failures.delete(this.failures.keys().next().value as string);
    }
    this.failures.set(address, { count: 1, resetAt: now + this.windowMs });
  }
}
