import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { constantTimeEqual, digestEqual, sha256Hex } from '../../src/common/constant-time.js';
import { toDecimalString } from '../../src/common/decimal.js';
import { uuidV5 } from '../../src/common/uuid-v5.js';
import { publishedBody, publishedPayload } from '../../src/events/published-payload.js';
import {
  buildTransactionEvent,
  eventIdFor,
  payloadHead,
  renderPayload,
} from '../../src/events/transaction-event.js';

describe('event ids', () => {
  it("are RFC 9562 version-5 UUIDs (the RFC's own example: www.example.com in the DNS namespace)", () => {
    assert.equal(
      uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('equal the RFC construction (SHA-1 of namespace bytes + UTF-8 name) for any name', () => {
    const reference = (name: string, namespace: string): string => {
      const digest = createHash('sha1')
        .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
        .update(name, 'utf8')
        .digest();
      digest[6] = (digest[6] & 0x0f) | 0x50;
      digest[8] = (digest[8] & 0x3f) | 0x80;
      const hex = digest.subarray(0, 16).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    };
    const names = ['', 'a', 'é😀', '\ud800 lone surrogate', '["nicepay","IONPAYTEST","TX1"]'];
    for (let i = 0; i < 500; i += 1)
      names.push(String.fromCharCode(...randomBytes(1 + (i % 40)).map((b) => b * 13 + i)));
    const variants = new Set<string>();
    for (const name of names) {
      const id = uuidV5(name, '6ba7b811-9dad-11d1-80b4-00c04fd430c8');
      assert.equal(id, reference(name, '6ba7b811-9dad-11d1-80b4-00c04fd430c8'), name);
      variants.add(id[19]);
    }
    assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b']);
  });

  it('depend on provider, account, transaction and status only', () => {
    const id = eventIdFor('nicepay', 'IONPAYTEST', 'TX1', 'succeeded');
    assert.equal(id, eventIdFor('nicepay', 'IONPAYTEST', 'TX1', 'succeeded'));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const others = [
      eventIdFor('s88pay', 'IONPAYTEST', 'TX1', 'succeeded'),
      eventIdFor('nicepay', 'OTHER', 'TX1', 'succeeded'),
      eventIdFor('nicepay', 'IONPAYTEST', 'TX2', 'succeeded'),
      eventIdFor('nicepay', 'IONPAYTEST', 'TX1', 'reversed'),
      // Field boundaries matter: "a"+"bc" must not collide with "ab"+"c".
      eventIdFor('nicepay', 'IONPAYTES', 'TTX1', 'succeeded'),
    ];
    assert.equal(new Set([id, ...others]).size, 6);
  });
});

describe('the CloudEvent', () => {
  it('routes by <domain>.<status>.<provider> and uses the provider time, else the receive time', () => {
    const receivedAt = new Date('2025-11-21T05:06:00.000Z');
    const base = {
      domain: 'topup' as const,
      status: 'failed' as const,
      providerStatus: '2',
      providerTransactionId: null,
      merchantReference: 'REF-1',
      amount: null,
      currency: 'IDR',
      fee: null,
      paymentMethod: null,
      channel: null,
      product: { code: 'TT5', destination: '081299999999', serialNumber: null },
      occurredAt: null,
      raw: { ref_id: 'REF-1' },
    };
    const event = buildTransactionEvent({
      provider: 'ppob',
      account: 'default',
      callbackId: 'cb-1',
      receivedAt,
      transaction: base,
    });
    assert.equal(event.routingKey, 'topup.failed.ppob');
    assert.equal(event.body.type, 'topup.failed');
    assert.equal(event.body.time, '2025-11-21T05:06:00.000Z');
    assert.equal(event.body.source, '/providers/ppob/default');
    assert.equal(
      event.id,
      eventIdFor('ppob', 'default', 'REF-1', 'failed'),
      'no provider id: keyed on the merchant reference',
    );
    const timed = buildTransactionEvent({
      provider: 'ppob',
      account: 'default',
      callbackId: 'cb-1',
      receivedAt,
      transaction: { ...base, occurredAt: new Date('2025-11-21T05:00:00Z') },
    });
    assert.equal(timed.body.time, '2025-11-21T05:00:00.000Z');
    assert.equal(timed.body.data.receivedAt, '2025-11-21T05:06:00.000Z');
  });
});

describe('the published JSON', () => {
  const transaction = {
    domain: 'payment' as const,
    status: 'succeeded' as const,
    providerStatus: '0',
    providerTransactionId: 'TX1',
    merchantReference: 'ORD-1',
    amount: '150000',
    currency: 'IDR',
    fee: null,
    paymentMethod: 'virtual_account',
    channel: 'BMRI',
    product: { code: 'TT5', destination: '081299999999', serialNumber: null },
    occurredAt: new Date('2025-11-21T05:05:12.000Z'),
    raw: { billingNm: 'Budi', billingEmail: 'budi@example.com', billingPhone: '081234567890' },
  };
  const event = buildTransactionEvent({
    provider: 'nicepay',
    account: 'IONPAYTEST',
    callbackId: '019300a0-0000-7000-8000-000000000001',
    receivedAt: new Date('2025-11-21T05:06:00.000Z'),
    transaction,
  });
  // A body read back from storage carries its transition inside data already.
  const withTransition = {
    ...event.body,
    data: { ...event.body.data, previousStatus: 'pending' as const, transactionVersion: 7 },
  };
  const transitions = [
    { previousStatus: null, transactionVersion: 1 },
    { previousStatus: 'pending' as const, transactionVersion: 2 },
  ];

  it('is the stored payload (renderPayload) masked, whichever way it is built', () => {
    for (const body of [event.body, withTransition]) {
      for (const transition of transitions) {
        const stored = renderPayload(body, transition);
        for (const policy of ['mask', 'publish'] as const) {
          assert.equal(publishedBody(body, transition, policy), publishedPayload(stored, policy));
        }
      }
    }
    const masked = JSON.parse(publishedBody(event.body, transitions[0]));
    assert.equal(masked.data.raw.billingEmail, 'b***@example.com');
    assert.equal(masked.data.product.destination, '0812****999');
    assert.deepEqual(Object.keys(masked.data).slice(-2), ['previousStatus', 'transactionVersion']);
    // The event itself is never changed by building its published copy.
    assert.equal(event.body.data.raw.billingEmail, 'budi@example.com');
    assert.equal(Object.hasOwn(event.body.data, 'previousStatus'), false);
  });

  it("the stored head leaves out a transition data already holds, in data's own order", () => {
    const rest: Partial<typeof withTransition.data> = { ...withTransition.data };
    delete rest.previousStatus;
    delete rest.transactionVersion;
    const expected = JSON.stringify({ ...withTransition, data: rest }).slice(0, -2);
    assert.equal(payloadHead(withTransition), expected);
    assert.equal(payloadHead(event.body), JSON.stringify(event.body).slice(0, -2));
  });
});

describe('money', () => {
  it('stays a decimal string, never a float', () => {
    assert.equal(toDecimalString('3000.00'), '3000.00');
    assert.equal(toDecimalString(' 20 '), '20');
    assert.equal(toDecimalString(10000.1), '10000.1');
    assert.equal(toDecimalString(150000), '150000');
    assert.equal(toDecimalString(0.07), '0.07');
    for (const bad of [
      '1e5',
      '12,50',
      'abc',
      '',
      NaN,
      Infinity,
      1e21,
      2 ** 60,
      null,
      undefined,
      {},
    ]) {
      assert.equal(toDecimalString(bad), null, `${String(bad)} refused`);
    }
  });
});

describe('secret comparison', () => {
  it('is exact whatever the lengths', () => {
    assert.ok(constantTimeEqual('abc', 'abc'));
    assert.ok(!constantTimeEqual('abc', 'abd'));
    assert.ok(!constantTimeEqual('abc', 'abcd'));
    assert.ok(!constantTimeEqual('', 'a'));
  });

  it('a presented value against a computed digest: equal bytes only, any other length refused', () => {
    const digest = sha256Hex('IONPAYTEST' + 'TX' + '150000' + 'key');
    assert.ok(digestEqual(digest, digest));
    assert.ok(!digestEqual(digest.toUpperCase(), digest));
    const lastFlipped = digest.slice(0, 63) + (digest[63] === '0' ? '1' : '0');
    assert.ok(!digestEqual(lastFlipped, digest));
    assert.ok(!digestEqual(digest.slice(0, 63), digest));
    assert.ok(!digestEqual(`${digest}0`, digest));
    assert.ok(!digestEqual('', digest));
    // 64 characters but more bytes (multi-byte UTF-8): refused, never a thrown length error.
    assert.ok(!digestEqual(`é${digest.slice(1)}`, digest));
  });
});
