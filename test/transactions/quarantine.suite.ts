import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PPOB_STATUS } from '../../src/providers/ppob/ppob.facts.js';
import { ADMIN_KEY, admin, type Json } from '../admin/admin-support.js';
import { PPOB, SIDOPULSA } from '../support/credentials.js';
import type { DatabaseKind } from '../support/databases.js';
import { callbacksMetric } from './metrics.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback, mcpaymentSignature, postMcpayment } from '../support/mcpayment.js';
import { nicepayNotification, postForm } from '../support/nicepay.js';
import { callbackUrl, tapped, uniqueRef, waitForEvent } from '../support/ppob-sidopulsa.js';
import { sleep } from '../support/broker.js';
import { assertIncreasing } from '../support/versions.js';

interface Row {
  id: string;
  outcome: string;
  account: string | null;
  status: string | null;
  transaction_key: string | null;
  event_id: string | null;
  quarantine: string | null;
}

async function rowsWhere(bed: TestBed, where: string, params: unknown[]): Promise<Row[]> {
  return bed.db.query<Row>(
    `SELECT id, outcome, account, status, transaction_key, event_id, quarantine FROM callbacks
     WHERE ${where} ORDER BY received_at, id`,
    params,
  );
}

/** The callback stored from a request whose raw body contains `marker`. */
async function storedWith(bed: TestBed, marker: string): Promise<Row[]> {
  return rowsWhere(bed, 'raw_body LIKE $1', [`%${marker}%`]);
}

/**
 * An authentic callback is never lost to validation: stored `quarantined` (errors and verified
 * fields kept), acknowledged like an accepted one, counted, listed by the admin API, and published
 * by renormalization once the mapper accepts it. HTTP → database → RabbitMQ.
 */
export function quarantineSuite(kind: DatabaseKind): void {
  describe(`quarantined callbacks on ${kind}`, () => {
    let bed: TestBed;
    before(async () => (bed = await createTestBed(kind, { ADMIN_API_KEY: ADMIN_KEY })));
    after(() => bed.teardown());

    it('an empty optional field is absent: NICEPAY `fee=` is accepted, fee null, raw kept as sent', async () => {
      const fields = nicepayNotification({ fee: '' });
      const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields);
      assert.equal(res.status, 200);
      const [event] = await waitForEvent(bed, (b) => b.subject === fields.referenceNo);
      assert.equal(event.body.data.fee, null);
      assert.equal(event.body.data.raw.fee, '');
      assert.deepEqual(
        (await rowsWhere(bed, 'transaction_key = $1', [fields.tXid])).map((r) => r.outcome),
        ['accepted'],
      );
    });

    const cases: Array<{
      what: string;
      provider: string;
      send: (marker: string) => Promise<Response>;
      ack: (res: Response) => Promise<void>;
      error: RegExp;
    }> = [
      {
        what: 'NICEPAY, signed, amt not an amount',
        provider: 'nicepay',
        send: (marker) =>
          postForm(
            `${bed.gateway.url}/callbacks/nicepay`,
            nicepayNotification({ amt: '15O,000', goodsNm: marker }),
          ),
        ack: async (res) =>
          assert.deepEqual(await res.json(), { resultCd: '200', resultMsg: 'success' }),
        error: /amt must be a whole amount/,
      },
      {
        what: 'MCPayment, signed, an unknown transaction_status',
        provider: 'mcpayment',
        send: (marker) => {
          const body = mcpaymentCallback({ transaction_status: 'SETTLED', reference_id: marker });
          return postMcpayment(
            `${bed.gateway.url}/callbacks/mcpayment`,
            body,
            mcpaymentSignature(body),
          );
        },
        ack: async (res) => assert.deepEqual(await res.json(), { message: 'SUCCESS' }),
        error: /transaction_status "SETTLED" is not a known MCPayment status/,
      },
      {
        what: 'Sidopulsa, right token, statuscode 3',
        provider: 'sidopulsa',
        send: (marker) =>
          fetch(
            callbackUrl(
              bed.gateway.url,
              'sidopulsa',
              {
                serverid: uniqueRef('7'),
                price: '9000',
                clientid: marker,
                statuscode: '3',
                kp: 'TT5',
                msisdn: '081299999999',
                sn: '',
                message: 'x',
              },
              { token: SIDOPULSA.token },
            ),
          ),
        ack: async (res) => assert.equal(await res.text(), 'OK'),
        error: /statuscode "3" is not a known status/,
      },
    ];
    for (const c of cases) {
      it(`${c.what} → quarantined: provider's ack, errors and fields kept, counted, no event`, async () => {
        const marker = uniqueRef('Q');
        const before = await callbacksMetric(bed, c.provider, 'quarantined');
        const res = await c.send(marker);
        assert.equal(res.status, 200);
        await c.ack(res);
        const [row, ...more] = await storedWith(bed, marker);
        assert.equal(more.length, 0);
        assert.equal(row.outcome, 'quarantined');
        assert.equal(row.event_id, null);
        assert.ok(row.account);
        const kept = JSON.parse(row.quarantine!) as { errors: string[]; fields: Json };
        assert.ok(
          kept.errors.some((e) => c.error.test(e)),
          kept.errors.join('; '),
        );
        assert.ok(JSON.stringify(kept.fields).includes(marker));
        assert.equal(await callbacksMetric(bed, c.provider, 'quarantined'), before + 1);
        await sleep(300);
        assert.equal(
          tapped(bed, (b) => JSON.stringify(b).includes(marker)).length,
          0,
          'no event until renormalized',
        );
      });
    }

    it('is listed by the admin API (outcome=quarantined) and refused by renormalize while the mapper still refuses it', async () => {
      const listed = await admin(bed, 'GET', '/admin/callbacks?outcome=quarantined');
      assert.equal(listed.status, 200);
      assert.ok(listed.body.items.length >= 3);
      assert.ok(
        listed.body.items.every((i: Json) => i.outcome === 'quarantined' && i.eventId === null),
      );
      const again = await admin(
        bed,
        'POST',
        `/admin/callbacks/${listed.body.items[0].id}/renormalize`,
      );
      assert.equal(again.status, 422);
    });

    it('is published by renormalize once the mapper accepts it, as a transition of its transaction', async () => {
      const ref = uniqueRef('R');
      const send = (status: string) =>
        fetch(
          callbackUrl(
            bed.gateway.url,
            'ppob',
            { ref_id: ref, status, sn: '', code: 'S10', destination: '08123214214' },
            { token: PPOB.token },
          ),
        );
      assert.equal((await send('Pending')).status, 200);
      // A status this gateway's mapper does not know yet.
      const res = await send('Reversed');
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');
      const [, quarantined] = await rowsWhere(bed, `raw_body LIKE $1`, [`%ref_id=${ref}%`]);
      assert.equal(quarantined.outcome, 'quarantined');
      await waitForEvent(bed, (b) => b.subject === ref, 1);

      // The mapper fix (deployed): PPOB's "Reversed" is a reversal.
      PPOB_STATUS.reversed = 'reversed';
      try {
        const fixed = await admin(bed, 'POST', `/admin/callbacks/${quarantined.id}/renormalize`);
        assert.equal(fixed.status, 202, JSON.stringify(fixed.body));
        assert.equal(fixed.body.outcome, 'accepted');
        assert.equal(fixed.body.routingKey, 'topup.reversed.ppob');
        const events = await waitForEvent(bed, (b) => b.subject === ref, 2);
        const reversal = events.find((e) => e.body.data.status === 'reversed')!;
        assert.equal(reversal.messageId, fixed.body.eventId);
        assert.equal(reversal.body.data.callbackId, quarantined.id);
        assert.equal(reversal.body.data.previousStatus, 'pending');
        const pendingEvent = events.find((e) => e.body.data.status === 'pending')!;
        assertIncreasing([
          pendingEvent.body.data.transactionVersion,
          reversal.body.data.transactionVersion,
        ]);

        const [row] = await rowsWhere(bed, 'id = $1', [quarantined.id]);
        assert.deepEqual(
          [row.outcome, row.status, row.transaction_key],
          ['accepted', 'reversed', ref],
        );
        assert.match(row.quarantine!, /is not a known status/, 'the errors stay on record');
        // Once is enough: it is no longer quarantined.
        const twice = await admin(bed, 'POST', `/admin/callbacks/${quarantined.id}/renormalize`);
        assert.notEqual(twice.status, 202);

        // The admin view of the transaction: its state and every callback in order.
        const view = await admin(bed, 'GET', `/admin/transactions/ppob/default/${ref}`);
        assert.equal(view.status, 200);
        assert.equal(view.body.status, 'reversed');
        assert.equal(view.body.version, reversal.body.data.transactionVersion);
        assert.deepEqual(
          view.body.callbacks.map((c: Json) => [
            c.status,
            c.outcome,
            c.events.map((e: Json) => e.transactionVersion),
          ]),
          [
            ['pending', 'accepted', [pendingEvent.body.data.transactionVersion]],
            ['reversed', 'accepted', [reversal.body.data.transactionVersion]],
          ],
        );
      } finally {
        delete PPOB_STATUS.reversed;
      }
    });

    it('admin: a transaction with a superseded callback, and the outcome=superseded filter', async () => {
      const ref = uniqueRef('S');
      const send = (status: string, sn: string) =>
        fetch(
          callbackUrl(
            bed.gateway.url,
            'ppob',
            { ref_id: ref, status, sn, code: 'S10', destination: '08123214214' },
            { token: PPOB.token },
          ),
        );
      assert.equal((await send('Success', '0512345678901234')).status, 200);
      assert.equal((await send('Pending', '')).status, 200);
      const [event] = await waitForEvent(bed, (b) => b.subject === ref, 1);
      const view = await admin(
        bed,
        'GET',
        `/admin/transactions/ppob/default/${encodeURIComponent(ref)}`,
      );
      assert.equal(view.status, 200);
      assert.deepEqual(
        [view.body.status, view.body.version, view.body.previousStatus],
        ['succeeded', event.body.data.transactionVersion, null],
      );
      assert.deepEqual(
        view.body.callbacks.map((c: Json) => [
          c.status,
          c.outcome,
          c.events.map((e: Json) => e.eventId),
        ]),
        [
          ['succeeded', 'accepted', [event.messageId]],
          ['pending', 'superseded', []],
        ],
      );
      const superseded = await admin(
        bed,
        'GET',
        '/admin/callbacks?outcome=superseded&provider=ppob',
      );
      assert.ok(superseded.body.items.some((i: Json) => i.transactionKey === ref));
      assert.equal(
        (await admin(bed, 'GET', '/admin/transactions/ppob/default/NO-SUCH-TX')).status,
        404,
      );
      assert.equal((await admin(bed, 'GET', '/admin/transactions/ppob/default/a%00b')).status, 400);
      assert.equal((await admin(bed, 'GET', '/admin/transactions/PPOB!/default/x')).status, 400);
      assert.equal(
        (await admin(bed, 'GET', `/admin/transactions/ppob/default/${ref}`, null)).status,
        401,
      );
    });
  });
}
