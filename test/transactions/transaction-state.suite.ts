import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { EventStatus } from '../../src/events/normalized-transaction.js';
import { buildTransactionEvent, eventIdFor } from '../../src/events/transaction-event.js';
import { TransactionStates } from '../../src/transactions/transaction-states.js';
import { PPOB } from '../support/credentials.js';
import type { DatabaseKind } from '../support/databases.js';
import { callbacksMetric } from './metrics.js';
import { assertClockVersion, assertIncreasing } from '../support/versions.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback, mcpaymentSignature, postMcpayment } from '../support/mcpayment.js';
import { nicepayNotification, postForm } from '../support/nicepay.js';
import {
  callbackUrl,
  type TappedEvent,
  tapped,
  uniqueRef,
  waitForEvent,
} from '../support/ppob-sidopulsa.js';

interface CallbackRow {
  id: string;
  outcome: string;
  status: string;
  event_id: string | null;
}

/** The callbacks stored for a transaction, in arrival order. */
function callbacksOf(bed: TestBed, transactionKey: string): Promise<CallbackRow[]> {
  return bed.db.query<CallbackRow>(
    `SELECT id, outcome, status, event_id FROM callbacks WHERE transaction_key = $1
     ORDER BY received_at, id`,
    [transactionKey],
  );
}

/**
 * The transaction's state; with its published `events`, the version is given as the rank of the
 * event that carries it (1 for the first transition, …), so assertions read like the table.
 */
async function stateOf(bed: TestBed, transactionKey: string, events?: TappedEvent[]) {
  const [row] = await bed.db.query<{ status: string; version: number | string }>(
    `SELECT status, version FROM transactions WHERE transaction_key = $1`,
    [transactionKey],
  );
  if (!row || !events) return row && { status: row.status, version: Number(row.version) };
  const rank = events.findIndex((e) => e.body.data.transactionVersion === Number(row.version));
  assert.ok(rank >= 0, `the state's version ${row.version} is the version of a published event`);
  return { status: row.status, version: rank + 1 };
}

/** Waits for `count` events of a subject and checks that no further one arrives. */
async function eventsFor(bed: TestBed, subject: string, count: number): Promise<TappedEvent[]> {
  const events = await waitForEvent(bed, (b) => b.subject === subject, count, 500);
  assert.equal(events.length, count, `exactly ${count} event(s) for ${subject}`);
  return events.sort((a, b) => a.body.data.transactionVersion - b.body.data.transactionVersion);
}

/**
 * [previous status, status, n] of each event in version order, n counting the transitions: versions
 * are ordered and clock-derived (never below the callback's receipt), not counted.
 */
function transitions(events: TappedEvent[]): Array<[string | null, string, number]> {
  for (const e of events)
    assertClockVersion(e.body.data.transactionVersion, e.body.data.receivedAt);
  assertIncreasing(events.map((e) => e.body.data.transactionVersion));
  return events.map((e, i) => [e.body.data.previousStatus, e.body.data.status, i + 1]);
}

/** One forward-only state per transaction, HTTP → database → RabbitMQ. */
export function transactionStateSuite(kind: DatabaseKind): void {
  describe(`transaction states on ${kind}`, () => {
    let bed: TestBed;
    before(async () => (bed = await createTestBed(kind)));
    after(() => bed.teardown());

    describe('PPOB reports', () => {
      const send = async (fields: Record<string, string>) => {
        const res = await fetch(
          callbackUrl(bed.gateway.url, 'ppob', fields, { token: PPOB.token }),
        );
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'OK');
      };
      const report = (ref: string, status: string) => ({
        ref_id: ref,
        status,
        sn: status === 'Success' ? '0512345678901234' : '',
        code: 'S10',
        destination: '08123214214',
      });

      it('Pending then Success → two events, versions 1 and 2, previousStatus null then pending', async () => {
        const ref = uniqueRef('TX');
        await send(report(ref, 'Pending'));
        await send(report(ref, 'Success'));
        const events = await eventsFor(bed, ref, 2);
        assert.deepEqual(transitions(events), [
          [null, 'pending', 1],
          ['pending', 'succeeded', 2],
        ]);
        assert.deepEqual(await stateOf(bed, ref, events), { status: 'succeeded', version: 2 });
        assert.deepEqual(
          (await callbacksOf(bed, ref)).map((c) => c.outcome),
          ['accepted', 'accepted'],
        );
      });

      it('Success then a late Pending → one event; the late one is stored superseded, acked 200, counted', async () => {
        const ref = uniqueRef('TX');
        const superseded = await callbacksMetric(bed, 'ppob', 'superseded');
        await send(report(ref, 'Success'));
        await send(report(ref, 'Pending'));
        const events = await eventsFor(bed, ref, 1);
        assert.deepEqual(transitions(events), [[null, 'succeeded', 1]]);
        const rows = await callbacksOf(bed, ref);
        assert.deepEqual(
          rows.map((c) => [c.status, c.outcome]),
          [
            ['succeeded', 'accepted'],
            ['pending', 'superseded'],
          ],
        );
        assert.deepEqual(await stateOf(bed, ref, events), { status: 'succeeded', version: 1 });
        assert.equal(await callbacksMetric(bed, 'ppob', 'superseded'), superseded + 1);
        // The late Pending re-sent is a duplicate of the stored one: acked, nothing new stored.
        await send(report(ref, 'Pending'));
        assert.equal((await callbacksOf(bed, ref)).length, 2);
      });
    });

    describe('MCPayment callbacks', () => {
      const send = async (body: ReturnType<typeof mcpaymentCallback>) => {
        const res = await postMcpayment(
          `${bed.gateway.url}/callbacks/mcpayment`,
          body,
          mcpaymentSignature(body),
        );
        assert.equal(res.status, 200);
      };
      const refund = (
        paid: ReturnType<typeof mcpaymentCallback>,
        amounts: number[],
      ): ReturnType<typeof mcpaymentCallback> => ({
        ...paid,
        transaction_status: 'REFUNDED',
        refund_history: amounts.map((amount, i) => ({
          refund_amount: amount,
          refund_time: `2025-11-22T09:3${i}:20.939+07:00`,
          refund_reference_id: `RF${paid.external_id}-${i}`,
        })),
      });

      it('callbacks sent together, with text an array literal must quote, are stored byte for byte with their events', async () => {
        // Sent at once, they reach the store in the same turns: on PostgreSQL one statement
        // takes each column of a batch as a text array, so every awkward character goes through
        // an array literal and back.
        const awkward = [
          'a "quoted" word, a comma',
          'back\\slash \\" and {braces}',
          'NULL',
          '',
          'é ✓ 日本 \t tab',
          '{"nested":["json",null]}',
          ' leading and trailing spaces ',
          'null, NULL, {}',
        ];
        const sent = awkward.map((note) => {
          const body = mcpaymentCallback({ additional_data: note });
          return { body, text: JSON.stringify(body) };
        });
        await Promise.all(
          sent.map(async ({ body, text }) => {
            const res = await postMcpayment(
              `${bed.gateway.url}/callbacks/mcpayment`,
              body,
              mcpaymentSignature(body),
              {},
              text,
            );
            assert.equal(res.status, 200, await res.text());
          }),
        );
        for (const { body, text } of sent) {
          const events = await eventsFor(bed, body.order_id, 1);
          assert.deepEqual(transitions(events), [[null, 'succeeded', 1]]);
          const [row] = await bed.db.query<{ raw_body: string; outcome: string }>(
            `SELECT raw_body, outcome FROM callbacks WHERE merchant_reference = $1`,
            [body.order_id],
          );
          assert.equal(row.outcome, 'accepted');
          assert.equal(row.raw_body, text, 'stored byte for byte');
        }
      });

      it('PAID then EXPIRED → one event', async () => {
        const paid = mcpaymentCallback();
        await send(paid);
        await send({ ...paid, transaction_status: 'EXPIRED' });
        const events = await eventsFor(bed, paid.order_id, 1);
        assert.deepEqual(transitions(events), [[null, 'succeeded', 1]]);
        assert.deepEqual(
          (await callbacksOf(bed, paid.transaction_id)).map((c) => c.outcome),
          ['accepted', 'superseded'],
        );
      });

      it('EXPIRED then PAID (a late payment) → two events', async () => {
        const paid = mcpaymentCallback();
        await send({ ...paid, transaction_status: 'EXPIRED' });
        await send(paid);
        const events = await eventsFor(bed, paid.order_id, 2);
        assert.deepEqual(transitions(events), [
          [null, 'expired', 1],
          ['expired', 'succeeded', 2],
        ]);
      });

      it('PAID, REFUNDED 1,000, REFUNDED 1,000 + 500 → three events; the second refund re-sent → no fourth', async () => {
        const paid = mcpaymentCallback();
        await send(paid);
        await send(refund(paid, [1000]));
        await send(refund(paid, [1000, 500]));
        await send(refund(paid, [1000, 500]));
        const events = await eventsFor(bed, paid.order_id, 3);
        assert.deepEqual(transitions(events), [
          [null, 'succeeded', 1],
          ['succeeded', 'refunded', 2],
          ['refunded', 'refunded', 3],
        ]);
        // Each partial refund has its own deterministic id.
        assert.equal(
          events[2].messageId,
          eventIdFor('mcpayment', 'default', paid.transaction_id, 'refunded', '1500'),
        );
        assert.notEqual(events[1].messageId, events[2].messageId);
        const rows = await callbacksOf(bed, paid.transaction_id);
        assert.equal(rows.length, 3, 'the re-sent refund is a duplicate: not stored again');
        assert.deepEqual(await stateOf(bed, paid.transaction_id, events), {
          status: 'refunded',
          version: 3,
        });
        // An older refund total arriving late is no new money.
        await send(refund(paid, [1000]));
        await send(refund(paid, [700]));
        await eventsFor(bed, paid.order_id, 3);
        assert.deepEqual(
          (await callbacksOf(bed, paid.transaction_id)).map((c) => c.outcome),
          ['accepted', 'accepted', 'accepted', 'superseded'],
        );
      });
    });

    describe('NICEPAY notifications', () => {
      const send = async (fields: Record<string, string>) => {
        const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { resultCd: '200', resultMsg: 'success' });
      };

      it('deposit then reversal → two events', async () => {
        const deposit = nicepayNotification();
        await send(deposit);
        await send({ ...deposit, status: '1' });
        const events = await eventsFor(bed, deposit.referenceNo, 2);
        assert.deepEqual(transitions(events), [
          [null, 'succeeded', 1],
          ['succeeded', 'reversed', 2],
        ]);
      });

      it('reversal then a replayed deposit → one event; the deposit is superseded', async () => {
        const deposit = nicepayNotification();
        await send({ ...deposit, status: '1' });
        await send(deposit);
        const events = await eventsFor(bed, deposit.referenceNo, 1);
        assert.deepEqual(transitions(events), [[null, 'reversed', 1]]);
        assert.deepEqual(
          (await callbacksOf(bed, deposit.tXid)).map((c) => [c.status, c.outcome]),
          [
            ['reversed', 'accepted'],
            ['succeeded', 'superseded'],
          ],
        );
      });

      it('every event carries its verification: the signature, when the callback was received', async () => {
        const deposit = nicepayNotification();
        await send(deposit);
        const [event] = await eventsFor(bed, deposit.referenceNo, 1);
        assert.deepEqual(event.body.data.verification, {
          method: 'signature',
          at: event.body.data.receivedAt,
        });
      });
    });

    describe('the state operation for other sources (TransactionStates.apply)', () => {
      const observe = (key: string, status: EventStatus, withEvent = true) => {
        const observedAt = new Date();
        const event = buildTransactionEvent({
          provider: 'nicepay',
          account: 'IONPAYTEST',
          callbackId: randomUUID(),
          receivedAt: observedAt,
          verification: { method: 'inquiry', at: observedAt.toISOString() },
          transaction: {
            domain: 'payment',
            status,
            providerStatus: status,
            providerTransactionId: key,
            merchantReference: `ORD-${key}`,
            amount: '1000',
            currency: 'IDR',
            fee: null,
            paymentMethod: null,
            channel: null,
            product: null,
            occurredAt: null,
            raw: {},
          },
        });
        return bed.gateway.app.get(TransactionStates).apply({
          provider: 'nicepay',
          account: 'IONPAYTEST',
          transactionKey: key,
          status,
          refundedTotal: null,
          observedAt,
          callbackId: null,
          event: withEvent ? event : null,
        });
      };

      it('records a status seen without a callback, publishes the transition, refuses what is not one', async () => {
        const key = uniqueRef('INQ');
        const observedAt = new Date();
        const first = await observe(key, 'pending');
        assert.equal(first.verdict, 'transition');
        assertClockVersion(first.version, observedAt);
        const second = await observe(key, 'succeeded');
        assert.deepEqual(
          [second.verdict, second.verdict === 'transition' && second.previousStatus],
          ['transition', 'pending'],
        );
        assertIncreasing([first.version, second.version]);
        const again = await observe(key, 'succeeded');
        assert.deepEqual([again.verdict, again.version], ['duplicate', second.version]);
        const late = await observe(key, 'failed');
        assert.deepEqual(
          [late.verdict, late.version, late.verdict !== 'transition' && late.status],
          ['superseded', second.version, 'succeeded'],
        );
        const events = await eventsFor(bed, `ORD-${key}`, 2);
        assert.deepEqual(transitions(events), [
          [null, 'pending', 1],
          ['pending', 'succeeded', 2],
        ]);
        assert.equal(events[1].body.data.verification.method, 'inquiry');
        const [outbox] = await bed.db.query<{ callback_id: string | null }>(
          `SELECT callback_id FROM outbox WHERE event_id = $1`,
          [events[1].messageId],
        );
        assert.equal(outbox.callback_id, null);
      });

      it('moves the state without an event when none is given', async () => {
        const key = uniqueRef('ORDER');
        const result = await observe(key, 'pending', false);
        assert.deepEqual([result.verdict, result.outbox], ['transition', null]);
        assert.deepEqual(await stateOf(bed, key), { status: 'pending', version: result.version });
        assert.equal(tapped(bed, (b) => b.subject === `ORD-${key}`).length, 0);
      });
    });
  });
}
