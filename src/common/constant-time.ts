import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets without leaking where they differ or how long the expected one is:
 * both sides are hashed to equal length first, then compared with timingSafeEqual. One-shot
 * `crypto.hash` (no Hash object per side: issue 28).
 */
export function constantTimeEqual(actual: string, expected: string): boolean {
  return timingSafeEqual(hash('sha256', actual, 'buffer'), hash('sha256', expected, 'buffer'));
}

/** Lowercase hex SHA-256 of the UTF-8 text, the digest every provider here signs with. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
