import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Breaker, RateLimiter, retryDelayMs } from '../../src/verification/pacing.js';
import type { ProviderReport } from '../../src/verification/status-api.js';
import { canonicalAmount, type ClaimedTransaction, judge } from '../../src/verification/verdict.js';

const claimed: ClaimedTransaction = {
  status: 'succeeded',
  providerTransactionId: 'TX1',
  merchantReference: 'ORD-1',
  amount: '150000',
  currency: 'IDR',
};
const report = (overrides: Partial<ProviderReport> = {}): ProviderReport => ({
  status: 'succeeded',
  providerStatus: '0',
  providerTransactionId: 'TX1',
  merchantReference: 'ORD-1',
  amount: '150000.00',
  currency: 'idr',
  raw: {},
  warnings: [],
  ...overrides,
});

describe('verification verdict', () => {
  it('confirms the same status, amount (decimal-equal), currency and reference', () => {
    assert.deepEqual(judge(claimed, report()), { outcome: 'confirmed' });
  });

  it('another status with the same facts is contradicted, carrying the provider status', () => {
    assert.deepEqual(judge({ ...claimed, status: 'reversed' }, report()), {
      outcome: 'contradicted',
      status: 'succeeded',
    });
  });

  it('any other reference, amount, currency or transaction id is a conflict, named', () => {
    for (const [change, word] of [
      [{ merchantReference: 'ORD-2' }, 'merchant reference'],
      [{ amount: '1' }, 'amount'],
      [{ currency: 'USD' }, 'currency'],
      [{ providerTransactionId: 'TX2' }, 'provider transaction id'],
    ] as const) {
      const verdict = judge(claimed, report(change));
      assert.equal(verdict.outcome, 'conflicted');
      assert.ok(verdict.outcome === 'conflicted' && verdict.reason.includes(word), word);
    }
    const extra = judge(claimed, report(), ['external_id']);
    assert.ok(extra.outcome === 'conflicted' && extra.reason.includes('external_id'));
  });

  it('a fact the provider does not report is not held against the callback', () => {
    assert.deepEqual(judge(claimed, report({ amount: null, currency: null })), {
      outcome: 'confirmed',
    });
  });

  it('canonical amounts', () => {
    assert.equal(canonicalAmount('0150000.50'), '150000.5');
    assert.equal(canonicalAmount('150000.00'), '150000');
    assert.equal(canonicalAmount('-0.0'), '0');
    assert.equal(canonicalAmount('1e5'), null);
  });
});

describe('verification pacing', () => {
  it('backoff doubles from 1 s with jitter, never above the cap', () => {
    assert.equal(
      retryDelayMs(1, 30, () => 0),
      500,
    );
    assert.equal(
      retryDelayMs(1, 30, () => 1),
      1000,
    );
    assert.equal(
      retryDelayMs(4, 30, () => 1),
      8000,
    );
    assert.equal(
      retryDelayMs(20, 30, () => 1),
      30_000,
    );
    assert.ok(retryDelayMs(20, 30, () => 0) >= 15_000);
  });

  it('rate limiter: a burst of perSecond, then one per 1/perSecond, per key', () => {
    let now = 0;
    const limiter = new RateLimiter(2, () => now);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 500);
    assert.equal(limiter.take('b'), 0, 'another account has its own bucket');
    now += 500;
    assert.equal(limiter.take('a'), 0);
  });

  it('breaker opens after consecutive failures, lets one probe through later, closes on success', () => {
    let now = 0;
    const breaker = new Breaker(3, 1000, () => now);
    for (let i = 0; i < 3; i += 1) {
      assert.ok(breaker.allow('p'));
      breaker.failed('p');
    }
    assert.equal(breaker.allow('p'), false);
    assert.ok(breaker.isOpen('p'));
    now += 1000;
    assert.equal(breaker.allow('p'), true, 'half-open probe');
    assert.equal(breaker.allow('p'), false, 'only one probe at a time');
    breaker.succeeded('p');
    assert.ok(breaker.allow('p'));
    assert.equal(breaker.isOpen('p'), false);
  });
});
