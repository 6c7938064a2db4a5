import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GatewayConfig, loadConfig } from '../../src/config/gateway-config.js';
import type { McpaymentSandbox } from '../../src/providers/mcpayment/mcpayment.sandbox.js';
import { McpaymentStatusApi } from '../../src/providers/mcpayment/mcpayment.status-api.js';
import type { NicepaySandbox } from '../../src/providers/nicepay/nicepay.sandbox.js';
import { NicepayStatusApi } from '../../src/providers/nicepay/nicepay.status-api.js';
import type { S88paySandbox } from '../../src/providers/s88pay/s88pay.sandbox.js';
import { S88payStatusApi } from '../../src/providers/s88pay/s88pay.status-api.js';
import type { StatusQuery } from '../../src/verification/status-api.js';
import { PROVIDER_ENV } from '../support/credentials.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';

function configFor(
  env: Record<string, string>,
  overrides: Record<string, string> = {},
): GatewayConfig {
  return loadConfig({ ...PROVIDER_ENV, ...env, ...overrides });
}

/** What the gateway would ask with, built from a held callback's fields. */
function queryOf(account: string, fields: Record<string, unknown>, reference: string): StatusQuery {
  return {
    account,
    providerTransactionId: (fields.tXid ??
      fields.transaction_id ??
      fields.transaction_no ??
      null) as string | null,
    merchantReference: reference,
    amount: null,
    currency: 'IDR',
    paymentMethod: null,
    channel: null,
    raw: fields,
  };
}

describe('provider sandbox: status APIs over real HTTP, authenticated like the providers', () => {
  let test: TestSandbox;
  before(async () => {
    test = await startTestSandbox();
  });
  after(() => test.sandbox.close());

  it('NICEPAY: a held VA deposit is confirmed by the v2 inquiry; wrong key 9010, unknown iMid 9011', async () => {
    const nicepay = test.sandbox.provider<NicepaySandbox>('nicepay');
    const held = await nicepay.create({ status: 'succeeded', send: false });
    const { fields, iMid } = held.transaction;
    const query = { ...queryOf(iMid, fields, fields.referenceNo), amount: fields.amt };

    const answer = await new NicepayStatusApi(configFor(test.env)).inquire(query);
    assert.ok(answer.kind === 'found', JSON.stringify(answer));
    assert.equal(answer.report.status, 'succeeded');
    assert.equal(answer.report.amount, fields.amt);
    assert.equal(answer.report.merchantReference, fields.referenceNo);
    assert.equal(answer.report.providerTransactionId, fields.tXid);
    assert.equal(answer.report.currency, 'IDR');
    assert.equal(answer.report.paymentMethod, 'virtual_account');
    assert.equal(answer.report.channel, fields.bankCd.toUpperCase());
    assert.ok(answer.report.occurredAt, 'deposit time of the answer');
    assert.equal(nicepay.get(fields.tXid)?.inquiries, 1);

    await nicepay.update(fields.tXid, { status: 'reversed', send: false });
    const reversed = await new NicepayStatusApi(configFor(test.env)).inquire(query);
    assert.ok(reversed.kind === 'found');
    assert.equal(reversed.report.status, 'reversed');

    const wrongKey = configFor(test.env, { NICEPAY_MERCHANT_KEY: 'wrong-key-1,wrong-key-2' });
    const refused = await new NicepayStatusApi(wrongKey).inquire(query);
    assert.ok(refused.kind === 'refused');
    assert.match(refused.reason, /9010/);

    const otherImid = configFor(test.env, {
      NICEPAY_IMID: 'OTHERIMID0',
      NICEPAY_MERCHANT_KEY: 'k',
    });
    const unknownImid = await new NicepayStatusApi(otherImid).inquire({
      ...query,
      account: 'OTHERIMID0',
    });
    assert.ok(unknownImid.kind === 'refused');
    assert.match(unknownImid.reason, /9011/);

    const otherReference = await new NicepayStatusApi(configFor(test.env)).inquire({
      ...query,
      merchantReference: 'SOMEONE-ELSES-ORDER',
    });
    assert.equal(otherReference.kind, 'unknown', 'another referenceNo is not this transaction');
    assert.equal(nicepay.get(fields.tXid)?.inquiries, 2, 'refused inquiries reach no transaction');
  });

  it('MCPayment: VA inquiry answers the callback shape; wrong Basic auth and wrong signature are 401', async () => {
    const mcpayment = test.sandbox.provider<McpaymentSandbox>('mcpayment');
    const held = await mcpayment.create({ status: 'PAID', send: false });
    const fields = held.transaction;
    const query = queryOf('default', fields, String(fields.order_id));

    const answer = await new McpaymentStatusApi(configFor(test.env)).inquire(query);
    assert.ok(answer.kind === 'found', JSON.stringify(answer));
    assert.equal(answer.report.status, 'succeeded');
    assert.equal(answer.report.amount, '150000');
    assert.equal(answer.report.merchantReference, fields.order_id);
    assert.equal(answer.report.providerTransactionId, fields.transaction_id);
    assert.equal(answer.report.currency, 'IDR', 'the answer states its currency');
    assert.equal(answer.report.paymentMethod, 'bank_transfer');
    assert.ok(answer.report.channel);
    assert.ok(answer.report.occurredAt);

    const wrongSecret = await new McpaymentStatusApi(
      configFor(test.env, { MCPAYMENT_SECRET_UNBOUND_ID: 'not-the-secret' }),
    ).inquire(query);
    assert.ok(wrongSecret.kind === 'refused');
    assert.match(wrongSecret.reason, /HTTP 401 401 Unauthorized/);

    const wrongHashKey = await new McpaymentStatusApi(
      configFor(test.env, { MCPAYMENT_HASH_KEY: 'OTHERKEY' }),
    ).inquire(query);
    assert.ok(wrongHashKey.kind === 'refused');
    assert.match(wrongHashKey.reason, /Invalid Signature/);

    // external_id / order_id split shifted by one character: same x-req-signature, other ids.
    const externalId = String(fields.external_id);
    const orderId = String(fields.order_id);
    const shifted = await new McpaymentStatusApi(configFor(test.env)).inquire({
      ...query,
      merchantReference: orderId.slice(1),
      raw: { ...fields, external_id: externalId + orderId[0], order_id: orderId.slice(1) },
    });
    assert.equal(shifted.kind, 'unknown');
    assert.equal(mcpayment.get(String(fields.transaction_id))?.inquiries, 1);
  });

  it('S88Pay: status API finds the transaction by code; wrong api_key and merchant code refused', async () => {
    const s88pay = test.sandbox.provider<S88paySandbox>('s88pay');
    const held = await s88pay.create({ status: 'completed', send: false });
    const code = held.key;
    const query = queryOf('SKU20230101012023', held.transaction, code);

    const answer = await new S88payStatusApi(configFor(test.env)).inquire(query);
    assert.ok(answer.kind === 'found', JSON.stringify(answer));
    assert.equal(answer.report.status, 'succeeded');
    assert.equal(answer.report.amount, '150000', 'the documented answer carries JSON numbers');
    assert.equal(answer.report.currency, 'IDR');
    assert.equal(answer.report.fee, '1500');
    assert.match(answer.report.occurredAt ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    assert.equal(answer.report.providerTransactionId, held.transaction.transaction_no);
    assert.equal(answer.report.raw.success, true);
    const entry = (answer.report.raw.data as Array<Record<string, unknown>>)[0];
    assert.deepEqual(Object.keys(entry).sort(), [
      'amount',
      'currency_code',
      'currency_name',
      'datetime',
      'method_name',
      'note',
      'status',
      'transaction_code',
      'transaction_fee',
      'transaction_no',
      'transaction_ref',
      'transaction_ref2',
      'type',
    ]);

    const wrongKey = await new S88payStatusApi(
      configFor(test.env, { S88PAY_API_KEY: 'otherkey', S88PAY_SECRET_KEY: 'mysecretkey' }),
    ).inquire(query);
    assert.ok(wrongKey.kind === 'refused', JSON.stringify(wrongKey));
    assert.match(
      wrongKey.reason,
      /code 115/,
      'S88Pay refuses with HTTP 200, success false, code 115',
    );
    const wrongMerchant = await new S88payStatusApi(
      configFor(test.env, { S88PAY_MERCHANT_CODE: 'SOMEONE' }),
    ).inquire(query);
    assert.ok(wrongMerchant.kind === 'refused');
    assert.match(wrongMerchant.reason, /Unknown merchant SOMEONE/);

    const missing = await new S88payStatusApi(configFor(test.env)).inquire({
      ...query,
      merchantReference: 'NOT-HELD',
    });
    assert.equal(missing.kind, 'unknown');
  });

  it('an outage answers 503, which the clients read as "unavailable"', async () => {
    const nicepay = test.sandbox.provider<NicepaySandbox>('nicepay');
    const held = await nicepay.create({ send: false });
    const { fields, iMid } = held.transaction;
    nicepay.down = true;
    try {
      const answer = await new NicepayStatusApi(configFor(test.env)).inquire({
        ...queryOf(iMid, fields, fields.referenceNo),
        amount: fields.amt,
      });
      assert.equal(answer.kind, 'unavailable');
    } finally {
      nicepay.down = false;
    }
  });

  it('the control API creates, lists and registers transactions over HTTP', async () => {
    const base = `${test.sandbox.url}/sandbox/nicepay`;
    const created = await fetch(`${base}/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'pending', reference: 'ORD-CONTROL-1', send: false }),
    });
    assert.equal(created.status, 201);
    const body = (await created.json()) as { key: string; status: string; callback: unknown };
    assert.equal(body.status, '3', 'pending is VA status 3 (unpaid)');
    assert.equal(body.callback, null, 'NICEPAY notifies no unpaid VA');
    const one = (await (await fetch(`${base}/transactions/${body.key}`)).json()) as {
      transaction: { fields: { referenceNo: string } };
    };
    assert.equal(one.transaction.fields.referenceNo, 'ORD-CONTROL-1');

    const bad = await fetch(`${base}/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'teleported' }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /no status "teleported"/);

    const forged = await fetch(`${base}/callbacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        method: 'POST',
        path: '/callbacks/nicepay',
        headers: {},
        body: 'tXid=X&amt=1&referenceNo=R&merchantToken=00',
      }),
    });
    assert.equal(forged.status, 400, 'a callback the sandbox cannot authenticate is not held');
    assert.equal((await fetch(`${test.sandbox.url}/nowhere`)).status, 404);
  });
});

describe('provider sandbox: callbacks it sends are genuine for the gateway', () => {
  let test: TestSandbox;
  let bed: TestBed;
  before(async () => {
    test = await startTestSandbox();
    bed = await createTestBed('sqlite', {
      NICEPAY_VERIFY: 'off',
      MCPAYMENT_VERIFY: 'off',
      S88PAY_VERIFY: 'off',
    });
    test.sandbox.setGatewayUrl(bed.gateway.url);
  });
  after(async () => {
    await bed.teardown();
    await test.sandbox.close();
  });

  it('each provider: created → callback 200 → event', async () => {
    const expected = [
      ['nicepay', 'payment.succeeded.nicepay'],
      ['mcpayment', 'payment.succeeded.mcpayment'],
      ['s88pay', 'payment.succeeded.s88pay'],
    ] as const;
    for (const [name] of expected) {
      const provider = test.sandbox.provider<NicepaySandbox>(name);
      const created = await provider.create({
        status: 'succeeded',
        reference: `ORD-SANDBOX-${name}`,
      });
      assert.equal(created.gatewayStatus, 200, `${name} callback accepted`);
    }
    const messages = await bed.tap.waitFor(expected.length);
    assert.deepEqual(
      messages.map((m) => m.fields.routingKey).sort(),
      expected.map(([, key]) => key).sort(),
    );
    assert.deepEqual(
      bed.tap
        .bodies()
        .map((b) => b.subject)
        .sort(),
      expected.map(([name]) => `ORD-SANDBOX-${name}`).sort(),
    );
  });
});
