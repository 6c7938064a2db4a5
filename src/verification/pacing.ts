/**
 * The pace of status inquiries: exponential backoff with jitter between attempts, a token bucket
 * per provider account, and a breaker per provider while it is down.
 */

/** Delay before attempt `attempt + 1` (attempt ≥ 1): 1 s, 2 s, 4 s … capped, with ±50 % jitter. */
export function retryDelayMs(attempt: number, maxSeconds: number, random = Math.random): number {
  const base = Math.min(2 ** Math.max(0, attempt - 1), maxSeconds) * 1000;
  // Full jitter in the upper half: spreads a burst of retries without ever exceeding the cap.
  return Math.round(base / 2 + (random() * base) / 2);
}

/** Token bucket per key (provider account): at most `perSecond` takes per second, bursts of that size. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly now = () => Date.now(),
  ) {}

  /** Takes a token; returns 0 when one was free, else how long to wait (ms) before asking again. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perSecond, at: now };
    bucket.tokens = Math.min(
      this.perSecond,
      bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond,
    );
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }
}

/**
 * Opens after `threshold` consecutive failures of a provider: while open, no inquiry is sent to
 * it; after `openMs` one probe is let through (half-open), and its answer closes or reopens it.
 */
export class Breaker {
  private readonly states = new Map<
    string,
    { failures: number; openUntil: number; probing: boolean }
  >();

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly now = () => Date.now(),
  ) {}

  private state(key: string) {
    let state = this.states.get(key);
    if (!state) {
      state = { failures: 0, openUntil: 0, probing: false };
      this.states.set(key, state);
    }
    return state;
  }

  /** Whether an inquiry may go to the provider now (takes the half-open probe if it is one). */
  allow(key: string): boolean {
    const state = this.state(key);
    if (state.failures < this.threshold) return true;
    if (this.now() < state.openUntil || state.probing) return false;
    state.probing = true;
    return true;
  }

  isOpen(key: string): boolean {
    const state = this.state(key);
    return state.failures >= this.threshold && (this.now() < state.openUntil || state.probing);
  }

  succeeded(key: string): void {
    this.states.set(key, { failures: 0, openUntil: 0, probing: false });
  }

  failed(key: string): void {
    const state = this.state(key);
    state.failures += 1;
    state.probing = false;
    if (state.failures >= this.threshold) state.openUntil = this.now() + this.openMs;
  }
}
