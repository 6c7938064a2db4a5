import type { AddressAllowlist } from '../common/address-allowlist.js';
import { allAllowlists } from '../config/accounts.js';
import type { GatewayConfig } from '../config/gateway-config.js';

const MAX_TRACKED_ADDRESSES = 50_000;

/**
 * Counts failed authentications (401/403) per client address in a fixed window and refuses an
 * address that went over the limit until its window ends. Addresses on any provider's explicit
 * allowlist are never limited, so genuine provider traffic always gets through. Per instance, in
 * memory: enough to make guessing tokens slow, and nothing to share between replicas.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();
  private readonly exempt: AddressAllowlist[];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    exempt: AddressAllowlist[],
  ) {
    this.exempt = exempt.filter((allowlist) => !allowlist.allowsEveryone);
  }

  static fromConfig(config: GatewayConfig): AuthFailureLimiter {
    return new AuthFailureLimiter(
      config.http.authFailureLimit,
      config.http.authFailureWindowMs,
      allAllowlists(config.providers),
    );
  }

  private isExempt(address: string): boolean {
    return this.exempt.some((allowlist) => allowlist.allows(address));
  }

  /** Seconds until the address may try again, or 0 when it is not limited. */
  retryAfter(address: string, now = Date.now()): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    if (now >= entry.resetAt) {
      this.failures.delete(address);
      return 0;
    }
    if (entry.count < this.limit || this.isExempt(address)) return 0;
    return Math.ceil((entry.resetAt - now) / 1000);
  }

  recordFailure(address: string, now = Date.now()): void {
    if (this.isExempt(address)) return;
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
