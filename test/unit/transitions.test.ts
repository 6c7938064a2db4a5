import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalDecimal, compareDecimals, sumDecimals } from '../../src/common/decimal.js';
import { EVENT_STATUSES, type EventStatus } from '../../src/events/normalized-transaction.js';
import {
  buildTransactionEvent,
  eventIdFor,
  payloadHead,
  renderPayload,
} from '../../src/events/transaction-event.js';
import { nextVersion } from '../../src/transactions/transaction-states.js';
import { decideTransition } from '../../src/events/transitions.js';

/** The default transitions, written out independently of the table in transitions.ts. */
const ALLOWED = new Set([
  'pending>succeeded',
  'pending>failed',
  'pending>expired',
  'pending>refunded',
  'pending>reversed',
  'pending>cancelled',
  'failed>succeeded',
  'expired>succeeded',
  'succeeded>refunded',
  'succeeded>reversed',
  'succeeded>cancelled',
]);

describe('the transition table', () => {
  for (const from of EVENT_STATUSES) {
    for (const to of EVENT_STATUSES) {
      if (from === 'refunded' && to === 'refunded') continue;
      const expected = ALLOWED.has(`${from}>${to}`)
        ? 'transition'
        : from === to
          ? 'duplicate'
          : 'superseded';
      it(`${from} → ${to}: ${expected}`, () => {
        assert.equal(
          decideTransition(
            { status: from, refundedTotal: null },
            { status: to, refundedTotal: null },
          ),
          expected,
        );
      });
    }
  }

  it('the first observation of a transaction is always a transition', () => {
    for (const status of EVENT_STATUSES)
      assert.equal(decideTransition(null, { status, refundedTotal: null }), 'transition');
  });

  it('refunded → refunded only with new money: a larger refunded total', () => {
    const refunded = (total: string | null) => ({
      status: 'refunded' as EventStatus,
      refundedTotal: total,
    });
    assert.equal(decideTransition(refunded('1000'), refunded('1500')), 'transition');
    assert.equal(decideTransition(refunded(null), refunded('1500')), 'transition');
    assert.equal(decideTransition(refunded('1500'), refunded('1500')), 'duplicate');
    assert.equal(decideTransition(refunded('1500'), refunded('700')), 'superseded');
    assert.equal(decideTransition(refunded('1000'), refunded(null)), 'superseded');
    assert.equal(decideTransition(refunded(null), refunded(null)), 'duplicate');
    // Compared as amounts, not as text.
    assert.equal(decideTransition(refunded('999.5'), refunded('1000')), 'transition');
  });
});

describe('decimal helpers for refunded totals', () => {
  it('compare, sum and spell amounts exactly', () => {
    assert.equal(compareDecimals('1000', '999.99'), 1);
    assert.equal(compareDecimals('1500.00', '1500'), 0);
    assert.equal(compareDecimals('-0.5', '0'), -1);
    assert.equal(sumDecimals(['1000', '500']), '1500');
    assert.equal(sumDecimals(['0.1', '0.2']), '0.3');
    assert.equal(sumDecimals(['10000.10', '0.05']), '10000.15');
    assert.equal(canonicalDecimal('001500.500'), '1500.5');
    assert.equal(canonicalDecimal('-0.00'), '0');
    assert.throws(() => compareDecimals('1e3', '1'), /not a decimal/);
  });
});

describe('event ids and payloads with transitions', () => {
  it('ids stay what they were, except a refund with its total, which is part of the id', () => {
    const base = eventIdFor('mcpayment', 'default', 'T1', 'refunded');
    assert.equal(eventIdFor('mcpayment', 'default', 'T1', 'refunded', ''), base);
    assert.notEqual(eventIdFor('mcpayment', 'default', 'T1', 'refunded', '1000'), base);
    assert.notEqual(
      eventIdFor('mcpayment', 'default', 'T1', 'refunded', '1000'),
      eventIdFor('mcpayment', 'default', 'T1', 'refunded', '1500'),
    );
  });

  it('the rendered payload is the body plus previousStatus and transactionVersion, valid JSON', () => {
    const event = buildTransactionEvent({
      provider: 'ppob',
      account: 'default',
      callbackId: 'c1',
      receivedAt: new Date('2025-11-21T05:00:00Z'),
      transaction: {
        domain: 'topup',
        status: 'succeeded',
        providerStatus: 'Success',
        providerTransactionId: null,
        merchantReference: 'R1',
        amount: null,
        currency: 'IDR',
        fee: null,
        paymentMethod: null,
        channel: null,
        product: null,
        occurredAt: null,
        raw: { note: '}}"previousStatus"' },
      },
    });
    const payload = JSON.parse(
      renderPayload(event.body, { previousStatus: 'pending', transactionVersion: 2 }),
    );
    assert.deepEqual(payload, {
      ...event.body,
      data: { ...event.body.data, previousStatus: 'pending', transactionVersion: 2 },
    });
    assert.equal(payloadHead(event.body), JSON.stringify(event.body).slice(0, -2));
  });
});

describe('transaction versions: ordered, clock-derived (nextVersion)', () => {
  const t = Date.parse('2026-01-10T08:00:00.000Z');

  it('the first version is the clock in epoch milliseconds; each next one is higher', () => {
    const first = nextVersion(null, t);
    assert.equal(first, t);
    assert.equal(nextVersion(first, t + 250), t + 250, 'later: the clock');
    assert.equal(nextVersion(first, t), t + 1, 'same millisecond: previous + 1');
    assert.equal(nextVersion(first, t - 5_000), t + 1, 'a clock behind never lowers a version');
    assert.equal(
      nextVersion(3, t),
      t,
      'a version counted before the upgrade (1, 2, 3…) is overtaken',
    );
  });

  it('after a loss of the latest writes, a new status is still above every version published', () => {
    // Published: pending at t, succeeded at t + 40 ms; the database then loses the second write.
    const pending = nextVersion(null, t);
    const lostSucceeded = nextVersion(pending, t + 40);
    // The failover takes seconds: the state row is back at `pending` (or gone) when a refund comes.
    const afterFailover = nextVersion(pending, t + 6_000);
    assert.ok(afterFailover > lostSucceeded);
    assert.ok(nextVersion(null, t + 6_000) > lostSucceeded, 'also when the whole row was lost');
  });
});
