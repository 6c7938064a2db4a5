/**
 * Personal data (docs/security.md "Personal data"): no e-mail address, phone number or card
 * number of a customer reaches a log line or, by default, a published event, whatever the
 * provider; the stored raw callback stays whole for the admin; EVENTS_PERSONAL_DATA=publish
 * publishes it unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  isPersonalField,
  maskPersonalData,
  maskPersonalText,
  maskPersonalTextAlways,
} from '../src/common/personal-data.js';
import { publishedBody, publishedPayload } from '../src/events/published-payload.js';
import { buildTransactionEvent, renderPayload } from '../src/events/transaction-event.js';
import { maskPersonalDataInLogs } from '../src/http/logging.js';
import { MCPAYMENT_PAID_SAMPLE } from '../src/providers/mcpayment/mcpayment.samples.js';
import { PROVIDERS, send, signedCallback } from './support/callbacks.js';
import { createTestBed, type TestBed } from './support/gateway.js';

/** Independent of the code under test: what a data-protection check would look for. */
const EMAIL = /[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9-]+\.[A-Za-z.]+/;
const PHONE = /(?<![\w*])(?:\+?62|0)8\d{7,12}(?!\d)/;
function cardNumber(text: string): string | null {
  for (const match of text.matchAll(/(?<!\d)\d{13,19}(?!\d)/g)) {
    const digits = match[0];
    let sum = 0;
    for (let i = 0; i < digits.length; i += 1) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) return digits;
  }
  return null;
}
function assertNoPersonalData(text: string, what: string): void {
  assert.doesNotMatch(text, EMAIL, `${what}: an e-mail address`);
  assert.doesNotMatch(text, PHONE, `${what}: a phone number`);
  assert.equal(cardNumber(text), null, `${what}: a card number`);
}

describe('personal data: masking', () => {
  it('masks e-mail addresses, phone numbers and card numbers in free text', () => {
    const text =
      'Trx ke 081234567890 sukses; pelanggan budi.santoso@example.com, +62 812-3456-7890, ' +
      '6281234567890, kartu 4111 1111 1111 1111 / 5500000000000004; ref ORD-20251121-0001 ' +
      'amount 150000 time 20251121120512';
    const masked = maskPersonalText(text);
    assertNoPersonalData(masked, masked);
    assert.match(masked, /0812\*\*\*\*890/);
    assert.match(masked, /b\*\*\*@example\.com/);
    assert.match(masked, /\*{12}1111/);
    // Ids, amounts and timestamps are not personal data.
    assert.match(masked, /ORD-20251121-0001 amount 150000 time 20251121120512/);
  });

  it('skips the expressions only where they could not have matched (random texts, edge cases)', () => {
    // The pre-check (no @, no +, no run of 9 digits) must never change a result.
    const cases = [
      '081234567', // 9 digits: a phone could start here
      '0812345678',
      '0 812 345 678',
      '0812-345-6789',
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '5500000000000004',
      '62 81234567890',
      '+62 812-3456-7890',
      'budi@example.com',
      '20241206 123045', // date and time: a space joins two runs into 14 digits
      '2024-12-06',
      'a08f3c9b0e1d2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a',
      '150000.00',
      'IONPAYTEST02202412061230001234',
      '12345678',
      '1234 5678',
      '1-2-3-4-5-6-7-8-9',
      '1--2345678901234',
      'a08123456789', // after a letter: no phone can start there
      'a 08123456789',
      'x-0812345678901',
      'abc1 23456789012',
      '_081234567890',
      '9f0812345678901234ab',
      '',
    ];
    const alphabet = '0123456789012345678901234567890   --+@._abxyzABF';
    let seed = 28;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 20000; i += 1) {
      const length = 1 + Math.floor(random() * 40);
      let text = '';
      for (let j = 0; j < length; j += 1) text += alphabet[Math.floor(random() * alphabet.length)];
      cases.push(text);
    }
    let masked = 0;
    for (const text of cases) {
      const expected = maskPersonalTextAlways(text);
      if (expected !== text) masked += 1;
      assert.equal(maskPersonalText(text), expected, JSON.stringify(text));
    }
    assert.ok(masked > 300, `the random texts include many that are masked (${masked})`);
  });

  it('masks personal fields by name at any depth, never the transaction ids', () => {
    for (const name of ['billingNm', 'billing_email', 'customer_details', 'full_name', 'msisdn'])
      assert.ok(isPersonalField(name) || name === 'customer_details', name);
    for (const name of ['goodsNm', 'bankNm', 'transaction_status', 'tXid', 'amount', 'payMethod'])
      assert.ok(!isPersonalField(name), name);
    const sample = MCPAYMENT_PAID_SAMPLE as unknown as Record<string, unknown>;
    const masked = maskPersonalData(
      { ...sample, id_luhn: '4111111111111111', note: 'call 081234567890' },
      new Set(['4111111111111111']),
    );
    const text = JSON.stringify(masked);
    assert.doesNotMatch(text, /Budi Santoso|budi\.santoso/);
    assert.doesNotMatch(text, /081234567890/);
    assert.equal(masked.id_luhn, '4111111111111111', 'a kept id is left whole');
    assert.equal(masked.transaction_id, sample.transaction_id);
    assert.equal(masked.amount, sample.amount);
  });

  it('publishes the stored payload masked by default, unchanged with the opt-in', () => {
    const stored = JSON.stringify({
      specversion: '1.0',
      subject: 'ORD-1',
      data: {
        providerTransactionId: '62812345678901',
        merchantReference: 'ORD-1',
        product: { code: 'TT5', destination: '081299999999', serialNumber: 'SN1' },
        raw: {
          email: 'a.b@example.com',
          note: 'dest 081299999999 card 4111111111111111',
          id: '62812345678901',
        },
        transactionVersion: 3,
      },
    });
    const published = publishedPayload(stored);
    assertNoPersonalData(published.replaceAll('62812345678901', ''), published);
    const body = JSON.parse(published) as { data: Record<string, Record<string, unknown>> };
    assert.equal(body.data.product.destination, '0812****999');
    assert.equal(body.data.raw.id, '62812345678901', 'the provider id, phone-like, is kept');
    assert.equal(publishedPayload(stored, 'publish'), stored);
  });

  it('renders a just-built event exactly as the stored payload would be published', () => {
    const event = buildTransactionEvent({
      provider: 'ppob',
      account: 'default',
      callbackId: '0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b',
      receivedAt: new Date('2026-01-02T03:04:05.678Z'),
      transaction: {
        domain: 'topup',
        status: 'succeeded',
        providerStatus: '1',
        providerTransactionId: '62812345678901',
        merchantReference: 'ORD-1',
        amount: '150000.00',
        currency: 'IDR',
        fee: null,
        paymentMethod: null,
        channel: null,
        product: { code: 'TT5', destination: '081299999999', serialNumber: 'SN1' },
        occurredAt: null,
        raw: {
          email: 'a.b@example.com',
          note: 'dest 081299999999 card 4111111111111111',
          id: '62812345678901',
          '7': 'a numeric key goes first',
          customer: { name: 'Budi', phone: '+62 812-3456-7890', tags: ['x@y.co', 42] },
          amount: 150000.5,
          empty: null,
        },
      },
    });
    const bodyBefore = JSON.stringify(event.body);
    for (const transition of [
      { previousStatus: null, transactionVersion: 1 },
      { previousStatus: 'pending' as const, transactionVersion: 1767323045678 },
    ]) {
      const stored = renderPayload(event.body, transition);
      for (const policy of ['mask', 'publish'] as const) {
        assert.equal(
          publishedBody(event.body, transition, policy),
          publishedPayload(stored, policy),
          `${policy}, previous ${transition.previousStatus}`,
        );
      }
    }
    assert.equal(JSON.stringify(event.body), bodyBefore, 'the built event is left as it was');
  });

  it('masks every string a log call writes', () => {
    const lines: string[] = [];
    const logger = pino(
      { hooks: { logMethod: maskPersonalDataInLogs } },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    logger.info(
      'ppob order R1 (S10 to 0812****214): sidopulsa answered 00 (Trx ke 081234567890 sukses)',
    );
    logger.warn({ reqId: 'r' }, 'refused: customer budi@example.co.id card 4111111111111111');
    assert.equal(lines.length, 2);
    // The epoch-millisecond time is a 13-digit number, not a card.
    for (const line of lines) assertNoPersonalData(line.replace(/"time":\d+/, ''), line);
  });
});

describe('personal data: a running gateway, every provider', () => {
  let masked: TestBed;
  let published: TestBed;
  before(async () => {
    masked = await createTestBed('postgres');
    published = await createTestBed('postgres', { EVENTS_PERSONAL_DATA: 'publish' });
  });
  after(async () => {
    await masked?.teardown();
    await published?.teardown();
  });

  it('publishes no e-mail address, phone or card number by default; the stored callback stays whole', async () => {
    const sent = PROVIDERS.map((provider) => signedCallback(provider));
    for (const callback of sent) {
      assert.equal((await send(masked.gateway.url, callback)).status, 200, callback.provider);
    }
    await masked.tap.waitFor(sent.length);
    for (const message of masked.tap.messages) {
      // The clock-derived version is a 13-digit number, not a card.
      const text = message.content.toString('utf8').replace(/"transactionVersion":\d+/, '');
      assertNoPersonalData(text, text);
      assert.doesNotMatch(text, /Budi Santoso|Siti Rahma/);
    }
    // The admin's record keeps what the provider sent.
    const rows = await masked.db.query<{ raw_body: string }>(
      `SELECT raw_body FROM callbacks WHERE provider IN ('mcpayment', 'sidopulsa')`,
    );
    const stored = rows.map((row) => row.raw_body).join('\n');
    assert.match(stored, /siti\.rahma@example\.co\.id/);
    assert.match(stored, /081299999999/);
  });

  it('publishes them whole with EVENTS_PERSONAL_DATA=publish', async () => {
    const callback = signedCallback('mcpayment');
    assert.equal((await send(published.gateway.url, callback)).status, 200);
    const [message] = await published.tap.waitFor(1);
    assert.match(message.content.toString('utf8'), /siti\.rahma@example\.co\.id/);
  });
});
