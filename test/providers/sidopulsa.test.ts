import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { SIDOPULSA } from '../support/credentials.js';
import { acceptedCallbacks, createTestBed, type TestBed } from '../support/gateway.js';
import {
  callbackUrl,
  docQuery,
  SIDOPULSA_DOC_FAILED_URL,
  SIDOPULSA_DOC_SUCCESS_URL,
  storedText,
  tapped,
  uniqueRef,
  urlTokenConfigurationSuite,
  waitForEvent,
} from '../support/ppob-sidopulsa.js';
import { assertClockVersion } from '../support/versions.js';
import { publishedDestination, publishedRaw } from '../support/published.js';

/** A report shaped like Sidopulsa's examples, for a fresh serverid/clientid. */
function sidopulsaReport(overrides: Record<string, string> = {}): Record<string, string> {
  const clientid = uniqueRef('C');
  return {
    serverid: uniqueRef('4'),
    price: '9000',
    clientid,
    statuscode: '1',
    kp: 'TT5',
    msisdn: '081299999999',
    sn: 'OPTR9039938DS',
    message: `TRX TT5.081299999999 BERHASIL, HRG:9000 SN: OPTR9039938DS. SISA SALDO:5550 CLIENTID=${clientid}.`,
    ...overrides,
  };
}

describe('Sidopulsa reports, HTTP → PostgreSQL → RabbitMQ', () => {
  let bed: TestBed;
  before(async () => (bed = await createTestBed('postgres')));
  after(() => bed.teardown());

  const send = (
    fields: Record<string, string> | Array<[string, string]>,
    options: { token?: string; spaces?: 'plus' | 'percent' } = {},
  ) =>
    fetch(
      callbackUrl(bed.gateway.url, 'sidopulsa', fields, { token: SIDOPULSA.token, ...options }),
    );

  const statuses: Array<[string, 'succeeded' | 'failed', string | null]> = [
    ['1', 'succeeded', 'OPTR9039938DS'],
    ['2', 'failed', null],
  ];
  for (const [statuscode, status, serialNumber] of statuses) {
    it(`statuscode ${statuscode} becomes one topup.${status}.sidopulsa event shaped as EVENTS.md says`, async () => {
      const fields = sidopulsaReport(
        statuscode === '2' ? { statuscode, sn: 'Trx gagal' } : { statuscode },
      );
      const res = await send(fields);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await res.text(), 'OK');

      const [event] = await waitForEvent(bed, (b) => b.subject === fields.clientid);
      const [row] = await bed.db.query<Record<string, string>>(
        'SELECT * FROM callbacks WHERE transaction_key = $1',
        [fields.clientid],
      );
      // Identified by clientid: the refid a top-up order's answer shares with its report.
      const expectedId = eventIdFor('sidopulsa', 'default', fields.clientid, status);
      assert.equal(event.routingKey, `topup.${status}.sidopulsa`);
      assert.equal(event.type, `topup.${status}`);
      assert.equal(event.messageId, expectedId);
      assert.equal(event.body.id, expectedId);
      assert.equal(event.body.source, '/providers/sidopulsa/default');
      assert.equal(event.body.type, `topup.${status}`);
      assert.deepEqual(event.body.data, {
        provider: 'sidopulsa',
        account: 'default',
        status,
        providerStatus: statuscode,
        providerTransactionId: fields.serverid,
        merchantReference: fields.clientid,
        amount: '9000',
        currency: 'IDR',
        fee: null,
        paymentMethod: null,
        channel: null,
        product: { code: 'TT5', destination: publishedDestination('081299999999'), serialNumber },
        occurredAt: event.body.data.receivedAt,
        receivedAt: event.body.data.receivedAt,
        callbackId: row.id,
        transactionKey: fields.clientid,
        verification: { method: 'signature', at: event.body.data.receivedAt },
        previousStatus: null,
        transactionVersion: assertClockVersion(
          event.body.data.transactionVersion,
          event.body.data.receivedAt,
        ),
        raw: publishedRaw(fields, event.body.data),
      });
      assert.equal(row.status, status);
      assert.equal(row.path, '/callbacks/sidopulsa/:token');
      assert.equal(row.verification, 'source 127.0.0.1 allowed; URL token matched');
    });
  }

  it("parses both sample URLs of Sidopulsa's page, percent-encoded as a client would send them", async () => {
    // The page's "success" example says statuscode=2; its table says 1 = sukses, so it is sent as 1.
    const success = docQuery(SIDOPULSA_DOC_SUCCESS_URL).map(([k, v]): [string, string] => [
      k,
      k === 'statuscode' ? '1' : v,
    ]);
    const failed = docQuery(SIDOPULSA_DOC_FAILED_URL);
    const successUrl = callbackUrl(bed.gateway.url, 'sidopulsa', success, {
      token: SIDOPULSA.token,
      spaces: 'plus',
    });
    const failedUrl = callbackUrl(bed.gateway.url, 'sidopulsa', failed, {
      token: SIDOPULSA.token,
      spaces: 'percent',
    });
    assert.match(
      successUrl,
      /message=TRX\+TT5\.081299999999\+BERHASIL%2C\+HRG%3A9000\+SN%3A\+OPTR9039938DS\.\+SISA\+SALDO%3A5550\+CLIENTID%3D99323877\.$/,
    );
    assert.match(
      failedUrl,
      /sn=Trx%20gagal&message=TRX%20TT5\.081299999999%20GAGAL%2C%20Trx%20gagal\./,
    );

    // Failed first: failed → succeeded is a transition (a late success), the reverse is not.
    for (const url of [failedUrl, successUrl]) {
      const res = await fetch(url);
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(await res.text(), 'OK');
    }
    const events = await waitForEvent(bed, (b) => b.data.providerTransactionId === '36203827', 2);
    assert.equal(events.length, 2);
    const byKey = Object.fromEntries(events.map((e) => [e.routingKey, e.body]));
    assert.deepEqual(Object.keys(byKey).sort(), [
      'topup.failed.sidopulsa',
      'topup.succeeded.sidopulsa',
    ]);

    const ok = byKey['topup.succeeded.sidopulsa'];
    assert.equal(ok.subject, '99323877');
    assert.equal(ok.data.amount, '9000');
    assert.deepEqual(ok.data.product, {
      code: 'TT5',
      destination: publishedDestination('081299999999'),
      serialNumber: 'OPTR9039938DS',
    });
    assert.equal(
      ok.data.raw.message,
      'TRX TT5.0812****999 BERHASIL, HRG:9000 SN: OPTR9039938DS. SISA SALDO:5550 CLIENTID=99323877.',
    );
    assert.deepEqual(ok.data.raw, publishedRaw(Object.fromEntries(success), ok.data));

    const ko = byKey['topup.failed.sidopulsa'];
    assert.equal(ko.subject, '99323877');
    assert.equal(ko.data.providerStatus, '2');
    assert.deepEqual(ko.data.product, {
      code: 'TT5',
      destination: publishedDestination('081299999999'),
      serialNumber: null,
    });
    assert.equal(ko.data.raw.sn, 'Trx gagal');
    assert.equal(
      ko.data.raw.message,
      'TRX TT5.0812****999 GAGAL, Trx gagal. SISA SALDO:5550 CLIENTID=99323877.',
    );

    // The stored raw bytes are the query exactly as received; the token is in neither.
    const rows = await bed.db.query<Record<string, string>>(
      'SELECT status, raw_body FROM callbacks WHERE transaction_key = $1 ORDER BY status',
      ['99323877'],
    );
    assert.deepEqual(
      rows.map((r) => [r.status, r.raw_body]),
      [
        ['failed', failedUrl.split('?')[1]],
        ['succeeded', successUrl.split('?')[1]],
      ],
    );
  });

  it('sent 5 times, 3 of them concurrently, gives one event and one stored row; every copy gets OK', async () => {
    const fields = sidopulsaReport();
    const concurrent = await Promise.all(
      [1, 2, 3].map(() =>
        fetch(callbackUrl(bed.gateway.url, 'sidopulsa', fields, { token: SIDOPULSA.token }), {
          headers: { connection: 'close' },
        }),
      ),
    );
    const sequential = [await send(fields), await send(fields)];
    for (const res of [...concurrent, ...sequential]) {
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');
    }
    const events = await waitForEvent(bed, (b) => b.subject === fields.clientid, 1, 800);
    assert.equal(events.length, 1);
    const rows = await bed.db.query('SELECT id FROM callbacks WHERE transaction_key = $1', [
      fields.clientid,
    ]);
    assert.equal(rows.length, 1);
  });

  const refusals: Array<
    [string, (f: Record<string, string>) => Promise<Response>, number, RegExp]
  > = [
    [
      'a wrong token',
      (f) => send(f, { token: 'sidopulsa-test-token-0123456780' }),
      401,
      /^Sidopulsa callback token does not match$/,
    ],
    [
      'no token while one is configured',
      (f) => send(f, { token: undefined }),
      401,
      /token required/,
    ],
    // Token-authenticated but invalid: authentic, so quarantined and acknowledged (test/transactions/quarantine.suite.ts).
    [
      'a repeated statuscode',
      (f) => send([...Object.entries(f), ['statuscode', '2']]),
      400,
      /statuscode must appear once/,
    ],
  ];
  for (const [what, sendForged, status, message] of refusals) {
    it(`${what} → ${status}, nothing stored as accepted, no event`, async () => {
      const fields = sidopulsaReport();
      const res = await sendForged(fields);
      assert.equal(res.status, status);
      const body = (await res.json()) as { message: string };
      assert.match(body.message, message);
      assert.ok(!body.message.includes(SIDOPULSA.token));
      await new Promise((resolve) => setTimeout(resolve, 400));
      const rows = await bed.db.query('SELECT id FROM callbacks WHERE transaction_key = $1', [
        fields.clientid,
      ]);
      assert.equal(rows.length, 0);
      assert.equal(tapped(bed, (b) => b.subject === fields.clientid).length, 0);
    });
  }

  it('never stores the URL token: not in the path, raw body, headers, verification or outbox', async () => {
    assert.ok((await acceptedCallbacks(bed.db)).length >= 5);
    const text = await storedText(bed);
    assert.ok(text.includes('/callbacks/sidopulsa/:token'));
    assert.ok(!text.includes(SIDOPULSA.token));
    assert.ok(!JSON.stringify(bed.tap.bodies()).includes(SIDOPULSA.token));
  });
});

urlTokenConfigurationSuite({
  provider: 'sidopulsa',
  envPrefix: 'SIDOPULSA',
  token: SIDOPULSA.token,
  report: () => {
    const fields = sidopulsaReport();
    return { fields, subject: fields.clientid };
  },
});
