import { randomFillSync } from 'node:crypto';

/** Random bytes for 256 ids at a time: one getrandom call instead of one per id. */
const pool = Buffer.alloc(16 * 256);
let used = pool.length;
let lastMs = 0;
let sequence = 0;

/**
 * RFC 9562 time-ordered UUID (version 7): 48 bits of Unix milliseconds, then a 12-bit sequence
 * that counts up within a millisecond (from a random start; monotonic in this process even if the
 * clock steps back), then 62 random bits. Ids of callbacks stored close in time sit close in the
 * primary key and in every index on a callback id, so an insert touches the index's newest pages
 * instead of a random one of millions (docs/performance.md).
 */
export function uuidV7(now: number = Date.now()): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const bytes = pool.subarray(used, used + 16);
  used += 16;
  if (now > lastMs) {
    lastMs = now;
    // Start in the lower half of the 12 bits, so a busy millisecond has room to count.
    sequence = ((bytes[6] & 0x07) << 8) | bytes[7];
  } else if (sequence < 0xfff) {
    sequence += 1;
  } else {
    lastMs += 1;
    sequence = 0;
  }
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The milliseconds a version 7 UUID carries. */
export function uuidV7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
