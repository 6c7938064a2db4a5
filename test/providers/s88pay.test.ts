import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { sleep } from '../support/broker.js';
import { S88PAY } from '../support/credentials.js';
import { acceptedCallbacks, createTestBed, type TestBed } from '../support/gateway.js';
import {
  postJson,
  s88payCallback,
  s88payEncrypt,
  s88payFormText,
  s88payPayload,
} from '../support/s88pay.js';
import { assertClockVersion } from '../support/versions.js';

async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('S88Pay callbacks on postgres', () => {
  let bed: TestBed;
  let url: string;
  before(async () => {
    bed = await createTestBed('postgres');
    url = `${bed.gateway.url}/callbacks/s88pay`;
  });
  after(() => bed.teardown());

  /** Posts, expects the S88Pay ack, and returns the one event for that transaction_code. */
  async function accepted(body: unknown) {
    const res = await postJson(url, body);
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await res.text(), 'success');
    const code = (body as { transaction_code?: string }).transaction_code;
    await waitUntil(
      () => bed.tap.bodies().some((b) => b.subject === code),
      `the event for ${code}`,
    );
    const index = bed.tap.bodies().findIndex((b) => b.subject === code);
    return { message: bed.tap.messages[index], body: bed.tap.bodies()[index] };
  }

  it('a completed JSON deposit becomes one payment.succeeded.s88pay event shaped as EVENTS.md says', async () => {
    const payload = s88payPayload();
    const { message, body } = await accepted(s88payCallback(payload));
    const expectedId = eventIdFor(
      's88pay',
      'SKU20230101012023',
      payload.transaction_no as string,
      'succeeded',
    );
    assert.equal(message.fields.routingKey, 'payment.succeeded.s88pay');
    assert.equal(message.properties.messageId, expectedId);
    assert.equal(message.properties.type, 'payment.succeeded');
    assert.deepEqual(message.properties.headers, { provider: 's88pay', 'schema-version': '1' });
    assert.equal(body.id, expectedId);
    assert.equal(body.source, '/providers/s88pay/SKU20230101012023');
    assert.equal(body.type, 'payment.succeeded');
    assert.equal(body.subject, payload.transaction_code);
    assert.equal(body.time, '2025-11-21T05:05:12.000Z', 'transaction_timestamp 1763701512');
    const [stored] = (await acceptedCallbacks(bed.db)).filter(
      (r) => r.transaction_key === payload.transaction_no,
    );
    const rawWithoutSecret = { ...payload };
    delete rawWithoutSecret.merchant_api_key;
    assert.deepEqual(body.data, {
      provider: 's88pay',
      account: 'SKU20230101012023',
      status: 'succeeded',
      providerStatus: '2',
      providerTransactionId: payload.transaction_no,
      merchantReference: payload.transaction_code,
      // One canonical decimal form in the event; raw keeps the provider's '150000.00'.
      amount: '150000',
      currency: 'IDR',
      fee: '1500',
      paymentMethod: null,
      channel: 'PAY01D',
      product: null,
      occurredAt: '2025-11-21T05:05:12.000Z',
      receivedAt: body.data.receivedAt,
      callbackId: stored.id,
      transactionKey: payload.transaction_no,
      verification: { method: 'signature', at: body.data.receivedAt },
      previousStatus: null,
      transactionVersion: assertClockVersion(body.data.transactionVersion, body.data.receivedAt),
      raw: rawWithoutSecret,
    });
    assert.ok(
      !message.content.toString('utf8').includes('merchant_api_key'),
      'the api key never leaves the gateway',
    );
    assert.ok(!message.content.toString('utf8').includes(S88PAY.apiKey));
  });

  it("a transaction_code equal to another callback's transaction_no is another transaction, not a duplicate", async () => {
    const first = s88payPayload();
    await accepted(s88payCallback(first));
    // Without a (trusted) transaction_no its key is the code, in its own id space: `ref:<code>`.
    const other = s88payPayload({
      transaction_no: undefined,
      transaction_code: first.transaction_no,
    });
    const { body } = await accepted(s88payCallback(other));
    assert.equal(body.subject, first.transaction_no);
    assert.equal(body.data.providerTransactionId, null);
    assert.equal(body.data.transactionKey, `ref:${String(first.transaction_no)}`);
    assert.notEqual(
      body.id,
      bed.tap.bodies().find((b) => b.subject === first.transaction_code)?.id,
      'its own event',
    );
  });

  it('stores the raw callback with its verification before acknowledging', async () => {
    const payload = s88payPayload();
    const callback = s88payCallback(payload);
    const res = await postJson(url, callback);
    assert.equal(res.status, 200);
    const rows = await bed.db.query<Record<string, string>>(
      'SELECT * FROM callbacks WHERE transaction_key = $1',
      [payload.transaction_no],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].provider, 's88pay');
    assert.equal(rows[0].account, 'SKU20230101012023');
    assert.equal(rows[0].status, 'succeeded');
    assert.equal(rows[0].path, '/callbacks/s88pay');
    assert.deepEqual(JSON.parse(rows[0].raw_body), callback);
    assert.equal(
      rows[0].verification,
      'key decrypted with the configured api_key/secret_key; transaction_code matches; transaction_no matches',
    );
    const [outbox] = await bed.db.query<{ payload: string }>(
      'SELECT payload FROM outbox WHERE callback_id = $1',
      [rows[0].id],
    );
    assert.ok(!outbox.payload.includes('merchant_api_key'));
  });

  // Every documented transaction_status, as integer and string, with amounts as strings and numbers.
  const statuses: Array<
    [number | string, string, unknown, string, unknown, string | null, string]
  > = [
    [1, 'pending', '3000.00', '3000', '10.00', '10', 'IDR'],
    ['pending', 'pending', 3000, '3000', 10, '10', 'INR'],
    [2, 'succeeded', 10000.1, '10000.1', 0, '0', 'BDT'],
    ['completed', 'succeeded', '3000.00', '3000', '10.00', '10', 'bdt'],
    ['success', 'succeeded', '250000', '250000', undefined, null, 'IDR'],
    [3, 'failed', '75000.50', '75000.5', '0.00', '0', 'IDR'],
    ['failed', 'failed', '75000.50', '75000.5', '0.00', '0', 'USD'],
    [4, 'pending', '12.34', '12.34', '0.10', '0.1', 'IDR'],
  ];
  for (const [providerStatus, status, amountIn, amount, feeIn, fee, currency] of statuses) {
    it(`transaction_status ${JSON.stringify(providerStatus)} → payment.${status}.s88pay`, async () => {
      const payload = s88payPayload({
        transaction_status: providerStatus,
        transaction_amount: amountIn,
        transaction_fee: feeIn,
        currency_code: currency,
      });
      const { message, body } = await accepted(s88payCallback(payload));
      assert.equal(message.fields.routingKey, `payment.${status}.s88pay`);
      assert.equal(body.type, `payment.${status}`);
      assert.equal(body.subject, payload.transaction_code);
      assert.equal(body.data.status, status);
      assert.equal(body.data.providerStatus, String(providerStatus));
      assert.equal(body.data.providerTransactionId, payload.transaction_no);
      assert.equal(body.data.amount, amount);
      assert.equal(body.data.fee, fee);
      assert.equal(body.data.currency, currency.toUpperCase());
    });
  }

  it('the seed\'s payout sample (WD-…, "completed", amounts as strings) is accepted', async () => {
    const payout = {
      transaction_no: `WD-987${Date.now()}`,
      transaction_code: `WD8765${Date.now()}`,
      transaction_status: 'completed',
      transaction_amount: '3000.00',
      transaction_fee: '10.00',
      currency_code: 'BDT',
      transaction_ref: '',
    };
    const { message, body } = await accepted(s88payCallback(payout));
    assert.equal(message.fields.routingKey, 'payment.succeeded.s88pay');
    assert.equal(body.data.account, 'default', 'no merchant_code inside');
    assert.equal(body.data.amount, '3000');
    assert.equal(body.data.fee, '10');
    assert.equal(body.data.currency, 'BDT');
    assert.equal(body.data.channel, null);
    assert.deepEqual(body.data.raw, payout);
  });

  it('a k=v plaintext (the documentation vector plus a status) is accepted; + stays +, %XX is decoded', async () => {
    const code = `TEST-DP-${Date.now()}`;
    const plaintext =
      `currency_code=INR&merchant_code=SKU20230101012023&merchant_api_key=myapikey&transaction_code=${code}` +
      '&transaction_timestamp=1677495605&payment_code=PAY01D&transaction_amount=1000&user_id=test+01' +
      '&transaction_status=2&note=top%20up';
    const callback = {
      key: s88payEncrypt(plaintext),
      transaction_code: code,
      transaction_no: 'DP-NOT-ENCRYPTED',
    };
    const { message, body } = await accepted(callback);
    assert.equal(message.fields.routingKey, 'payment.succeeded.s88pay');
    assert.equal(
      body.data.providerTransactionId,
      null,
      'transaction_no beside key is not trusted when not encrypted',
    );
    assert.equal(body.data.merchantReference, code);
    assert.equal(body.data.amount, '1000');
    assert.equal(body.data.currency, 'INR');
    assert.equal(body.data.occurredAt, '2023-02-27T11:00:05.000Z');
    assert.deepEqual(body.data.raw, {
      currency_code: 'INR',
      merchant_code: 'SKU20230101012023',
      transaction_code: code,
      transaction_timestamp: '1677495605',
      payment_code: 'PAY01D',
      transaction_amount: '1000',
      user_id: 'test+01',
      transaction_status: '2',
      note: 'top up',
    });
  });

  it('a k=v plaintext built by the test helper is accepted like JSON', async () => {
    const payload = s88payPayload({ transaction_status: 3 });
    const { message, body } = await accepted(s88payCallback(payload, { format: 'form' }));
    assert.equal(message.fields.routingKey, 'payment.failed.s88pay');
    assert.equal(body.data.providerTransactionId, payload.transaction_no);
    assert.equal(body.data.providerStatus, '3');
    assert.equal(body.data.raw.transaction_timestamp, '1763701512');
  });

  it('sent 5 times, 3 of them concurrently on separate connections, gives one event', async () => {
    const payload = s88payPayload();
    const callback = s88payCallback(payload);
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => postJson(url, callback, { connection: 'close' })),
    );
    const sequential = [];
    for (let i = 0; i < 2; i += 1) sequential.push(await postJson(url, callback));
    for (const res of [...concurrent, ...sequential]) {
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'success', 'a duplicate is answered like the original');
    }
    await waitUntil(
      () => bed.tap.bodies().some((b) => b.subject === payload.transaction_code),
      'the event',
    );
    await sleep(800);
    assert.equal(bed.tap.bodies().filter((b) => b.subject === payload.transaction_code).length, 1);
    const rows = await bed.db.query('SELECT id FROM callbacks WHERE transaction_key = $1', [
      payload.transaction_no,
    ]);
    assert.equal(rows.length, 1);
  });

  describe('refused requests', () => {
    const refusedCodes: string[] = [];
    /** A payload whose transaction_code is remembered, to prove no event ever names it. */
    const payload = (overrides: Record<string, unknown> = {}) => {
      const p = s88payPayload(overrides);
      if (typeof p.transaction_code === 'string') refusedCodes.push(p.transaction_code);
      return p;
    };
    // One message for every refusal found by decrypting: distinct ones would be a padding oracle.
    const OPAQUE =
      /^S88Pay key is not a callback for the configured credentials and the transaction codes sent beside it$/;
    const refusals: Array<[string, () => unknown, number, RegExp]> = [
      [
        'a key encrypted with another api_key',
        () =>
          s88payCallback(payload(), { credentials: { ...S88PAY, apiKey: 'someone-elses-key' } }),
        401,
        OPAQUE,
      ],
      [
        'a key encrypted with another secret_key',
        () =>
          s88payCallback(payload(), {
            credentials: { ...S88PAY, secretKey: 'someone-elses-secret' },
          }),
        401,
        OPAQUE,
      ],
      [
        'a key with bad padding',
        () => ({
          ...s88payCallback(payload()),
          key: s88payEncrypt('{"transaction_code":"X"}'.padEnd(32, ' '), S88PAY, { pad: false }),
        }),
        401,
        OPAQUE,
      ],
      [
        'a key that is garbage base64',
        () => ({ ...s88payCallback(payload()), key: 'this is not base64!' }),
        401,
        /S88Pay key is not percent-encoded base64/,
      ],
      [
        'a key decrypting to a JSON array',
        () => ({ key: s88payEncrypt(JSON.stringify([payload()])), transaction_code: 'X' }),
        401,
        OPAQUE,
      ],
      [
        'a key decrypting to plain text',
        () => ({ key: s88payEncrypt('transaction completed'), transaction_code: 'X' }),
        401,
        OPAQUE,
      ],
      [
        'a transaction_code that is not the encrypted one',
        () => s88payCallback(payload(), { beside: { transaction_code: 'ORD-SOMEONE-ELSE' } }),
        401,
        OPAQUE,
      ],
      [
        'a transaction_no that is not the encrypted one',
        () => s88payCallback(payload(), { beside: { transaction_no: 'DP-SOMEONE-ELSE' } }),
        401,
        OPAQUE,
      ],
      [
        'an encrypted payload without transaction_code',
        () => ({
          key: s88payEncrypt(s88payFormText({ transaction_no: 'DP-1', transaction_status: 2 })),
          transaction_no: 'DP-1',
        }),
        401,
        OPAQUE,
      ],
      [
        'no key at all',
        () => ({ transaction_code: payload().transaction_code }),
        401,
        /S88Pay key is missing/,
      ],
      ['broken JSON', () => '{"key": "abc", "transaction_code": ', 400, /not valid JSON/],
      // Decrypted, well-formed but invalid (an unknown status): authentic, so quarantined and
      // acknowledged (test/transactions/quarantine.suite.ts). A field of the wrong SHAPE is what a
      // tampered block looks like (AES-CBC without a MAC): refused as forged, with the one message.
      [
        'an amount that is not a decimal',
        () => s88payCallback(payload({ transaction_amount: '3,000.00' })),
        401,
        OPAQUE,
      ],
      [
        'no currency_code',
        () => s88payCallback(payload({ currency_code: undefined })),
        401,
        OPAQUE,
      ],
    ];

    for (const [what, body, status, message] of refusals) {
      it(`${what} → ${status} with a clear message`, async () => {
        const res = await postJson(url, body());
        assert.equal(res.status, status);
        const error = (await res.json()) as { statusCode: number; message: string };
        assert.equal(error.statusCode, status);
        assert.match(error.message, message);
      });
    }

    it('a form body → 415', async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(s88payCallback(payload()) as Record<string, string>).toString(),
      });
      assert.equal(res.status, 415);
      assert.match(
        ((await res.json()) as { message: string }).message,
        /S88Pay callbacks must be application\/json/,
      );
    });

    it('none of them stored an accepted callback or emitted an event', async () => {
      await sleep(500);
      const codes = new Set(refusedCodes);
      assert.ok(codes.size >= 7);
      assert.deepEqual(
        bed.tap.bodies().filter((b) => codes.has(b.subject)),
        [],
      );
      const rows = await acceptedCallbacks(bed.db);
      assert.deepEqual(
        rows.filter((r) => codes.has(JSON.parse(String(r.raw_body)).transaction_code)),
        [],
      );
      const keys = await bed.db.query<{ transaction_key: string }>(
        'SELECT transaction_key FROM callbacks',
      );
      assert.ok(keys.every((r) => !/SOMEONE-ELSE/.test(r.transaction_key)));
    });
  });
});
