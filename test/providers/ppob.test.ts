import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { PPOB } from '../support/credentials.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import {
  callbackUrl,
  storedText,
  tapped,
  uniqueRef,
  urlTokenConfigurationSuite,
  waitForEvent,
} from '../support/ppob-sidopulsa.js';
import { assertClockVersion } from '../support/versions.js';
import { publishedDestination, publishedRaw } from '../support/published.js';

/** A report as the PPOB server sends it (seed 003 §2), for a fresh ref_id. */
function ppobReport(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ref_id: uniqueRef(''),
    status: 'Success',
    sn: '0512345678901234',
    code: 'S10',
    destination: '08123214214',
    ...overrides,
  };
}

describe('PPOB server reports, HTTP → PostgreSQL → RabbitMQ', () => {
  let bed: TestBed;
  before(async () => (bed = await createTestBed('postgres')));
  after(() => bed.teardown());

  /** `token: null` sends the tokenless URL. */
  const send = (
    fields: Record<string, string> | Array<[string, string]>,
    token: string | null = PPOB.token,
  ) => fetch(callbackUrl(bed.gateway.url, 'ppob', fields, { token: token ?? undefined }));

  const statuses: Array<[string, 'pending' | 'succeeded' | 'failed', string, string | null]> = [
    ['Pending', 'pending', '', null],
    ['Success', 'succeeded', '0512345678901234', '0512345678901234'],
    ['Failed', 'failed', '', null],
    ['SUCCESS', 'succeeded', '5512-8893-0021-4471-0098', '5512-8893-0021-4471-0098'],
  ];
  for (const [providerStatus, status, sn, serialNumber] of statuses) {
    it(`status ${providerStatus} becomes one topup.${status}.ppob event`, async () => {
      const fields = ppobReport({ status: providerStatus, sn });
      const res = await send(fields);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(await res.text(), 'OK');

      const [event] = await waitForEvent(bed, (b) => b.subject === fields.ref_id);
      const [row] = await bed.db.query<Record<string, string>>(
        'SELECT * FROM callbacks WHERE transaction_key = $1',
        [fields.ref_id],
      );
      assert.equal(event.routingKey, `topup.${status}.ppob`);
      assert.equal(event.type, `topup.${status}`);
      assert.equal(event.messageId, eventIdFor('ppob', 'default', fields.ref_id, status));
      assert.equal(event.body.source, '/providers/ppob/default');
      assert.deepEqual(event.body.data, {
        provider: 'ppob',
        account: 'default',
        status,
        providerStatus,
        providerTransactionId: null,
        merchantReference: fields.ref_id,
        amount: null,
        currency: 'IDR',
        fee: null,
        paymentMethod: null,
        channel: null,
        product: { code: 'S10', destination: publishedDestination('08123214214'), serialNumber },
        occurredAt: event.body.data.receivedAt,
        receivedAt: event.body.data.receivedAt,
        callbackId: row.id,
        transactionKey: fields.ref_id,
        verification: { method: 'signature', at: event.body.data.receivedAt },
        previousStatus: null,
        transactionVersion: assertClockVersion(
          event.body.data.transactionVersion,
          event.body.data.receivedAt,
        ),
        raw: publishedRaw(fields, event.body.data),
      });
      assert.equal(row.path, '/callbacks/ppob/:token');
    });
  }

  it("accepts the document's capitalised Sn and Code", async () => {
    const fields = {
      ref_id: uniqueRef(''),
      status: 'Success',
      Sn: 'PLN-TOKEN-0123',
      Code: 'PLN20',
      destination: '531234567890',
    };
    assert.equal((await send(fields)).status, 200);
    const [event] = await waitForEvent(bed, (b) => b.subject === fields.ref_id);
    assert.deepEqual(event.body.data.product, {
      code: 'PLN20',
      destination: publishedDestination('531234567890'),
      serialNumber: 'PLN-TOKEN-0123',
    });
    assert.deepEqual(event.body.data.raw, publishedRaw(fields, event.body.data));
  });

  it('Pending then Success for the same ref_id gives two events, pending first', async () => {
    const ref = uniqueRef('');
    assert.equal((await send(ppobReport({ ref_id: ref, status: 'Pending', sn: '' }))).status, 200);
    await waitForEvent(bed, (b) => b.subject === ref, 1, 0);
    assert.equal((await send(ppobReport({ ref_id: ref, status: 'Success' }))).status, 200);
    const events = await waitForEvent(bed, (b) => b.subject === ref, 2);
    assert.deepEqual(
      events.map((e) => e.routingKey),
      ['topup.pending.ppob', 'topup.succeeded.ppob'],
    );
    assert.notEqual(events[0].messageId, events[1].messageId);
    const rows = await bed.db.query(
      'SELECT status FROM callbacks WHERE transaction_key = $1 ORDER BY received_at',
      [ref],
    );
    assert.deepEqual(
      rows.map((r) => r.status),
      ['pending', 'succeeded'],
    );
  });

  it('sent 5 times (3 concurrently, status in varying case) gives one event and one row', async () => {
    const fields = ppobReport();
    const copies = ['Success', 'SUCCESS', 'success', 'Success', 'success'].map((status) => ({
      ...fields,
      status,
    }));
    const concurrent = await Promise.all(
      copies.slice(0, 3).map((copy) =>
        fetch(callbackUrl(bed.gateway.url, 'ppob', copy, { token: PPOB.token }), {
          headers: { connection: 'close' },
        }),
      ),
    );
    const sequential = [await send(copies[3]), await send(copies[4])];
    for (const res of [...concurrent, ...sequential]) {
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');
    }
    const events = await waitForEvent(bed, (b) => b.subject === fields.ref_id, 1, 800);
    assert.equal(events.length, 1);
    const rows = await bed.db.query('SELECT id FROM callbacks WHERE transaction_key = $1', [
      fields.ref_id,
    ]);
    assert.equal(rows.length, 1);
  });

  const refusals: Array<
    [string, (f: Record<string, string>) => Promise<Response>, number, RegExp]
  > = [
    [
      'a wrong token',
      (f) => send(f, PPOB.token.slice(0, -1)),
      401,
      /^PPOB callback token does not match$/,
    ],
    ['no token while one is configured', (f) => send(f, null), 401, /token required/],
    // Token-authenticated but invalid: authentic, so quarantined and acknowledged (test/transactions/quarantine.suite.ts).
    [
      'a repeated ref_id',
      (f) => send([...Object.entries(f), ['ref_id', 'other']]),
      400,
      /ref_id must appear once/,
    ],
  ];
  for (const [what, sendForged, status, message] of refusals) {
    it(`${what} → ${status}, nothing stored as accepted, no event`, async () => {
      const fields = ppobReport();
      const res = await sendForged(fields);
      assert.equal(res.status, status);
      assert.match(((await res.json()) as { message: string }).message, message);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(
        (await bed.db.query('SELECT id FROM callbacks WHERE transaction_key = $1', [fields.ref_id]))
          .length,
        0,
      );
      assert.equal(tapped(bed, (b) => b.subject === fields.ref_id).length, 0);
    });
  }

  it('never stores or publishes the URL token', async () => {
    const text = await storedText(bed);
    assert.ok(text.includes('/callbacks/ppob/:token'));
    assert.ok(!text.includes(PPOB.token));
    assert.ok(!JSON.stringify(bed.tap.bodies()).includes(PPOB.token));
  });
});

urlTokenConfigurationSuite({
  provider: 'ppob',
  envPrefix: 'PPOB',
  token: PPOB.token,
  report: () => {
    const fields = ppobReport();
    return { fields, subject: fields.ref_id };
  },
});
