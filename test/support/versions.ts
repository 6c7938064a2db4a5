import assert from 'node:assert/strict';

/**
 * transactionVersion is ordered, not counted (src/transactions/transaction-states.ts nextVersion):
 * higher than the previous version of the transaction and never lower than the gateway's clock in
 * epoch milliseconds when the transition was recorded.
 */
export function assertClockVersion(version: unknown, notBefore: Date | string | number): number {
  assert.equal(typeof version === 'string' ? 'number' : typeof version, 'number');
  const value = Number(version);
  assert.ok(Number.isSafeInteger(value), `version ${value} is a safe integer`);
  const floor = new Date(notBefore).getTime();
  assert.ok(value >= floor, `version ${value} is not below the clock at recording (${floor})`);
  assert.ok(value <= Date.now() + 1_000, `version ${value} is not in the future`);
  return value;
}

/** Each version of `versions` (in publication order) is higher than the one before. */
export function assertIncreasing(versions: unknown[], what = 'versions'): void {
  const numbers = versions.map(Number);
  for (let i = 1; i < numbers.length; i += 1) {
    assert.ok(numbers[i] > numbers[i - 1], `${what}: ${numbers.join(', ')} increase`);
  }
}
