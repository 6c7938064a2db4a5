import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets without leaking where they differ or how long the expected one is:
 * both sides are hashed to equal length first, then compared with timingSafeEqual. One-shot
 * `crypto.hash` to hex (no Hash object per side, and Node 20's one-shot hash is four times
 * slower with a Buffer result than with hex: issue 28).
 */
export function constantTimeEqual(actual: string, expected: string): boolean {
  return timingSafeEqual(digest(actual), digest(expected));
}

function digest(text: string): Buffer {
  return Buffer.from(sha256Hex(text), 'hex');
}

/**
 * Compares a presented value with a digest the gateway computed (lowercase hex SHA-256: always 64
 * characters, so its length is no secret): a value of another length is refused at once, one of
 * that length compared with timingSafeEqual, byte for byte. Two hashes fewer per comparison than
 * constantTimeEqual, for the comparisons made on every callback (issue 28).
 */
export function digestEqual(presented: string, expectedDigest: string): boolean {
  const actual = Buffer.from(presented, 'utf8');
  const expected = Buffer.from(expectedDigest, 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Lowercase hex SHA-256 of the UTF-8 text, the digest every provider here signs with. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
