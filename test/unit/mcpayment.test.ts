import { HttpException } from '@nestjs/common';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toDecimalString } from '../../src/common/decimal.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import type { InboundCallback } from '../../src/ingest/callback-provider.js';
import { validateFields } from '../../src/common/validate-fields.js';
import { McpaymentCallbackDto } from '../../src/providers/mcpayment/mcpayment.dto.js';
import {
  MCPAYMENT_ACK,
  MCPAYMENT_STATUS,
  mcpaymentPaymentMethod,
  mcpaymentStatus,
} from '../../src/providers/mcpayment/mcpayment.facts.js';
import { McpaymentProvider } from '../../src/providers/mcpayment/mcpayment.provider.js';
import {
  MCPAYMENT_DEMO_HASH_KEY,
  MCPAYMENT_PAID_SAMPLE,
  MCPAYMENT_SAMPLE_SIGNATURE,
} from '../../src/providers/mcpayment/mcpayment.samples.js';
import {
  mcpaymentCallbackSignature,
  mcpaymentRequestSignature,
} from '../../src/providers/mcpayment/mcpayment.signature.js';
import { mcpaymentCallback, mcpaymentSignature } from '../support/mcpayment.js';

const VECTOR = {
  hashKey: 'HASHKEY123',
  external_id: '18457738645627',
  order_id: 'Test-01',
  transaction_id: '8393c208-8b83-49eb-8c0b-0b50016e7401',
  xReqSignature: '5db01f5423c20ee721ce1f2ea2e9daaebb6ef9d0da3b4f014f2c3b5eebc686c9',
  mcpSignature: '56abef0edf89ccf64816a17f366241cd291a897489657a0738d736f01863c76e',
};

function inbound(
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): InboundCallback {
  return {
    method: 'POST',
    path: '/callbacks/mcpayment',
    headers: { 'content-type': contentType, ...headers },
    query: {},
    params: {},
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    contentType,
    clientIp: '127.0.0.1',
    receivedAt: new Date('2025-11-21T05:06:00.000Z'),
  };
}

function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof HttpException, `expected an HttpException, got ${String(error)}`);
    return error.getStatus();
  }
  assert.fail('expected a refusal');
}

async function rejection(run: () => unknown): Promise<HttpException> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof HttpException);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('MCPayment', () => {
  const provider = new McpaymentProvider(
    loadConfig({ MCPAYMENT_HASH_KEY: VECTOR.hashKey, MCPAYMENT_VERIFY: 'off' }),
  );
  const subProvider = new McpaymentProvider(
    loadConfig({
      MCPAYMENT_HASH_KEY: VECTOR.hashKey,
      MCPAYMENT_SUB_MERCHANT_ID: 'SUBM-001',
      MCPAYMENT_VERIFY: 'off',
    }),
  );

  describe('signature', () => {
    it('reproduces the PROVIDERS.md vector (x-req-signature, then mcp-signature)', () => {
      assert.equal(
        mcpaymentRequestSignature(VECTOR.hashKey, VECTOR.external_id, VECTOR.order_id),
        VECTOR.xReqSignature,
      );
      assert.equal(
        mcpaymentCallbackSignature(
          VECTOR.hashKey,
          VECTOR.transaction_id,
          VECTOR.external_id,
          VECTOR.order_id,
          null,
        ),
        VECTOR.mcpSignature,
      );
    });

    it('the independent test signer agrees on the vector and on the sub-merchant formula', () => {
      assert.equal(mcpaymentSignature(VECTOR, VECTOR.hashKey), VECTOR.mcpSignature);
      const withSub = mcpaymentCallbackSignature(
        VECTOR.hashKey,
        VECTOR.transaction_id,
        VECTOR.external_id,
        VECTOR.order_id,
        'SUBM-001',
      );
      assert.equal(withSub, mcpaymentSignature(VECTOR, VECTOR.hashKey, 'SUBM-001'));
      assert.notEqual(withSub, VECTOR.mcpSignature);
    });

    it('the Swagger sample is genuinely signed for the demo hash key', () => {
      assert.equal(MCPAYMENT_DEMO_HASH_KEY, 'HASHKEY123');
      assert.equal(
        MCPAYMENT_SAMPLE_SIGNATURE,
        mcpaymentSignature(MCPAYMENT_PAID_SAMPLE, MCPAYMENT_DEMO_HASH_KEY),
      );
      const verified = provider.authenticate(
        inbound(MCPAYMENT_PAID_SAMPLE, { 'mcp-signature': MCPAYMENT_SAMPLE_SIGNATURE }),
      );
      assert.equal(verified.account, 'default');
    });

    it('accepts upper-case hex, refuses a wrong, missing or parent-merchant signature with 401', () => {
      const body = mcpaymentCallback();
      const good = mcpaymentSignature(body);
      assert.equal(
        provider.authenticate(inbound(body, { 'mcp-signature': good.toUpperCase() })).account,
        'default',
      );
      assert.equal(
        statusOf(() => provider.authenticate(inbound(body))),
        401,
      );
      assert.equal(
        statusOf(() => provider.authenticate(inbound(body, { 'mcp-signature': '' }))),
        401,
      );
      assert.equal(
        statusOf(() =>
          provider.authenticate(
            inbound(body, { 'mcp-signature': mcpaymentSignature(body, 'WRONGKEY') }),
          ),
        ),
        401,
      );
      assert.equal(
        statusOf(() =>
          provider.authenticate(
            inbound({ ...body, order_id: 'ORD-OTHER' }, { 'mcp-signature': good }),
          ),
        ),
        401,
      );
      // With a sub-merchant configured, only its formula is accepted.
      assert.equal(
        statusOf(() => subProvider.authenticate(inbound(body, { 'mcp-signature': good }))),
        401,
      );
      const sub = subProvider.authenticate(
        inbound(body, { 'mcp-signature': mcpaymentSignature(body, undefined, 'SUBM-001') }),
      );
      assert.equal(sub.account, 'SUBM-001');
      assert.match(sub.verification, /sub_merchant_id/);
      assert.doesNotMatch(sub.verification, /[0-9a-f]{64}/, 'no signature in the audit line');
    });

    it('refuses missing ids with 400, a non-JSON content type with 415, a non-object body with 400', () => {
      const body = mcpaymentCallback();
      const signature = mcpaymentSignature(body);
      for (const field of ['transaction_id', 'external_id', 'order_id']) {
        const partial: Record<string, unknown> = { ...body };
        delete partial[field];
        assert.equal(
          statusOf(() => provider.authenticate(inbound(partial, { 'mcp-signature': signature }))),
          400,
          field,
        );
      }
      assert.equal(
        statusOf(() =>
          provider.authenticate(inbound(body, { 'mcp-signature': signature }, 'text/plain')),
        ),
        415,
      );
      assert.equal(
        statusOf(() => provider.authenticate(inbound([body], { 'mcp-signature': signature }))),
        400,
      );
    });
  });

  describe('status table', () => {
    const expected = {
      PAID: 'succeeded',
      SUCCESS: 'succeeded',
      ACTIVE: 'pending',
      PROCESSING: 'pending',
      EXPIRED: 'expired',
      CANCELED: 'cancelled',
      FAILED: 'failed',
      REFUNDED: 'refunded',
      VOID: 'cancelled',
    };

    it('is exactly the documented table', () => {
      assert.deepEqual({ ...MCPAYMENT_STATUS }, expected);
    });

    for (const [value, status] of Object.entries(expected)) {
      it(`${value} → ${status} in upper, lower and mixed case`, () => {
        assert.equal(mcpaymentStatus(value), status);
        assert.equal(mcpaymentStatus(value.toLowerCase()), status);
        assert.equal(mcpaymentStatus(value[0] + value.slice(1).toLowerCase()), status);
      });
    }

    it('unknown values (and inherited property names) are not statuses', () => {
      for (const value of ['SETTLED', 'CANCELLED', '', 'constructor', '__proto__', 'toString']) {
        assert.equal(mcpaymentStatus(value), undefined, value);
      }
    });

    it('an unknown status is a 400 naming the value', async () => {
      const error = await rejection(() =>
        validateFields(
          McpaymentCallbackDto,
          mcpaymentCallback({ transaction_status: 'SETTLED' }),
          'MCPayment callback',
        ),
      );
      assert.equal(error.getStatus(), 400);
      assert.match(
        JSON.stringify(error.getResponse()),
        /transaction_status \\"SETTLED\\" is not a known MCPayment status/,
      );
    });
  });

  describe('payment method', () => {
    it('maps the known methods and lower-snake-cases the rest', () => {
      const cases: Array<[string | undefined, string | null]> = [
        ['BANK_TRANSFER', 'bank_transfer'],
        ['VA', 'virtual_account'],
        ['EWALLET', 'ewallet'],
        ['QRIS', 'qris'],
        ['CREDIT_CARD', 'card'],
        ['credit_card', 'card'],
        ['DIRECT_DEBIT', 'direct_debit'],
        ['Retail Outlet', 'retail_outlet'],
        ['', null],
        [undefined, null],
      ];
      for (const [value, method] of cases)
        assert.equal(mcpaymentPaymentMethod(value), method, String(value));
    });
  });

  describe('amounts', () => {
    it('JSON numbers become decimal strings without float error', () => {
      const parsed = JSON.parse(
        '{"a":10000.1,"b":10000.10,"c":150000,"d":0.1,"e":12345678.99,"f":999999999999.99,"g":0.3}',
      );
      assert.equal(toDecimalString(parsed.a), '10000.1');
      assert.equal(toDecimalString(parsed.b), '10000.1');
      assert.equal(toDecimalString(parsed.c), '150000');
      assert.equal(toDecimalString(parsed.d), '0.1');
      assert.equal(toDecimalString(parsed.e), '12345678.99');
      assert.equal(toDecimalString(parsed.f), '999999999999.99');
      assert.equal(toDecimalString(parsed.g), '0.3');
      assert.equal(toDecimalString(1e-7), null, 'exponent form is refused, not mangled');
    });

    it('non-amounts and negative amounts are a 400', async () => {
      for (const amount of ['abc', -5, null, true, '1e5']) {
        const error = await rejection(() =>
          validateFields(
            McpaymentCallbackDto,
            mcpaymentCallback({}, { amount }),
            'MCPayment callback',
          ),
        );
        assert.equal(error.getStatus(), 400);
        assert.match(
          JSON.stringify(error.getResponse()),
          /payment_details\.amount must be a non-negative decimal amount/,
        );
      }
      const noDetails = mcpaymentCallback();
      delete (noDetails as Record<string, unknown>).payment_details;
      assert.match(
        JSON.stringify(
          (
            await rejection(() =>
              validateFields(McpaymentCallbackDto, noDetails, 'MCPayment callback'),
            )
          ).getResponse(),
        ),
        /payment_details must be an object/,
      );
    });
  });

  describe('normalize', () => {
    async function normalized(body: Record<string, unknown>, p = provider) {
      const verified = p.authenticate(
        inbound(body, {
          'mcp-signature': mcpaymentSignature(
            body as never,
            undefined,
            p === subProvider ? 'SUBM-001' : '',
          ),
        }),
      );
      const dto = await validateFields(McpaymentCallbackDto, verified.fields, 'MCPayment callback');
      return p.normalize(dto, verified);
    }

    it('maps the Swagger sample (PAID BRI VA) field by field', async () => {
      const tx = await normalized(MCPAYMENT_PAID_SAMPLE);
      assert.deepEqual(tx, {
        domain: 'payment',
        status: 'succeeded',
        providerStatus: 'PAID',
        providerTransactionId: '8393c208-8b83-49eb-8c0b-0b50016e7401',
        merchantReference: 'Test-01',
        amount: '150000',
        currency: 'IDR',
        fee: '4000',
        paymentMethod: 'bank_transfer',
        channel: 'BRI',
        product: null,
        occurredAt: new Date('2025-11-21T05:05:12.136Z'),
        raw: MCPAYMENT_PAID_SAMPLE,
      });
    });

    it('keeps 10000.1 as "10000.1", falls back to issuer (trimmed) and payment_history paid_time', async () => {
      const body = mcpaymentCallback(
        {
          payment_channel: undefined,
          issuer: 'bca ',
          currency: 'idr',
          payment_history: [
            { paid_amount: 5000, paid_time: '2025-11-21T12:02:00.000+07:00' },
            { paid_amount: 5000.1, paid_time: '2025-11-21T12:09:00.000+07:00' },
          ],
        },
        { paid_time: undefined, total_fee_amount: undefined },
      );
      const tx = await normalized(JSON.parse(JSON.stringify(body)));
      assert.equal(tx.amount, '10000.1');
      assert.equal(tx.fee, null);
      assert.equal(tx.channel, 'BCA');
      assert.equal(tx.currency, 'IDR');
      assert.equal(tx.occurredAt?.toISOString(), '2025-11-21T05:09:00.000Z');
    });

    it('uses transaction_time when not paid, the latest refund_time when refunded', async () => {
      const pending = await normalized(
        mcpaymentCallback({ transaction_status: 'active' }, { paid_time: '' }),
      );
      assert.equal(pending.status, 'pending');
      assert.equal(pending.providerStatus, 'active');
      assert.equal(pending.occurredAt?.toISOString(), '2025-11-21T05:00:20.592Z');
      const refunded = await normalized(
        mcpaymentCallback({
          transaction_status: 'REFUNDED',
          refund_history: [{ refund_time: '2025-11-22T09:31:20.939+07:00', refund_amount: 1000 }],
        }),
      );
      assert.equal(refunded.status, 'refunded');
      assert.equal(refunded.occurredAt?.toISOString(), '2025-11-22T02:31:20.939Z');
    });

    it('is disabled (404) without MCPAYMENT_HASH_KEY', () => {
      assert.equal(new McpaymentProvider(loadConfig({})).isEnabled(), false);
      assert.equal(provider.isEnabled(), true);
    });

    it('the ack is 200 application/json {"message":"SUCCESS"}', () => {
      assert.deepEqual(provider.ack(), {
        status: 200,
        contentType: 'application/json',
        body: '{"message":"SUCCESS"}',
      });
      assert.equal(provider.ack(), MCPAYMENT_ACK);
      assert.deepEqual(provider.recordedHeaders, ['mcp-signature']);
    });
  });
});
