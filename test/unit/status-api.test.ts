import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  mcpaymentInquiryRequest,
  mcpaymentRefundedTotal,
  parseMcpaymentInquiry,
} from '../../src/providers/mcpayment/mcpayment.status-api.js';
import { nicepayInquiryStatus } from '../../src/providers/nicepay/nicepay.facts.js';
import { NICEPAY_SANDBOX } from '../../src/providers/nicepay/nicepay.samples.js';
import {
  nicepayInquiryRequest,
  nicepayInquiryToken,
  nicepayTimeStamp,
  parseNicepayInquiry,
} from '../../src/providers/nicepay/nicepay.status-api.js';
import { decryptS88payKey } from '../../src/providers/s88pay/s88pay.crypto.js';
import {
  parseS88payStatus,
  s88payStatusRequestBody,
} from '../../src/providers/s88pay/s88pay.status-api.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('NICEPAY Status Inquiry', () => {
  const { iMid, merchantKey } = NICEPAY_SANDBOX;

  it("merchantToken = SHA-256(timeStamp + iMid + referenceNo + amt + merchantKey): NICEPAY's three vectors", () => {
    assert.equal(
      nicepayInquiryToken('20221012080918', iMid, 'ORDER20221012080918', '1', merchantKey),
      '666b397e7bce1d65e2cc553205ebab7330f9b2da8293b02c342279c1b6999ceb',
    );
    assert.equal(
      nicepayInquiryToken('20221012080918', iMid, 'ORDER20221012080918', '10000', merchantKey),
      'd8d0968892c568bc6ff5adc17cd755f85334a0b58fce85392682993a9ba653ed',
    );
    assert.equal(
      nicepayInquiryToken('20221208065959', iMid, 'ORD20221208', '2000', merchantKey),
      '324a7d07d9f3fe30a3960b28af29a91fc30a33fb3332cf33d40394f30d1f399f',
    );
  });

  it('timeStamp is YYYYMMDDHH24MISS in Jakarta time and signs the request', () => {
    const now = new Date('2022-10-12T01:09:18Z'); // 08:09:18 in Jakarta
    assert.equal(nicepayTimeStamp(now), '20221012080918');
    const request = nicepayInquiryRequest(
      iMid,
      merchantKey,
      { tXid: 'IONPAYTEST02202210120809180001', referenceNo: 'ORDER20221012080918', amt: '1' },
      now,
    );
    assert.deepEqual(request, {
      timeStamp: '20221012080918',
      tXid: 'IONPAYTEST02202210120809180001',
      iMid,
      referenceNo: 'ORDER20221012080918',
      amt: '1',
      merchantToken: '666b397e7bce1d65e2cc553205ebab7330f9b2da8293b02c342279c1b6999ceb',
    });
  });

  it('reads status per payMethod: the same digit means different things', () => {
    assert.deepEqual(nicepayInquiryStatus('02', '1'), { status: 'reversed', warning: null });
    assert.deepEqual(nicepayInquiryStatus('01', '1'), { status: 'cancelled', warning: null });
    assert.deepEqual(nicepayInquiryStatus('02', '4'), { status: 'expired', warning: null });
    assert.deepEqual(nicepayInquiryStatus('05', '4'), { status: 'pending', warning: null });
    assert.deepEqual(nicepayInquiryStatus('08', '6'), { status: 'failed', warning: null });
    assert.deepEqual(nicepayInquiryStatus('03', '5'), { status: 'pending', warning: null });
    assert.deepEqual(nicepayInquiryStatus('06', '2'), { status: 'refunded', warning: null });
  });

  it('an undocumented status code or payMethod is pending, with a warning', () => {
    const code = nicepayInquiryStatus('02', '7');
    assert.equal(code.status, 'pending');
    assert.match(code.warning ?? '', /status "7" is not documented for payMethod 02/);
    const method = nicepayInquiryStatus('77', '0');
    assert.equal(method.status, 'pending');
    assert.match(method.warning ?? '', /payMethod "77"/);
  });

  it('classifies resultCd: 0000 found, 9010/9011 configuration, 1001–1004 retry, others not confirmed', () => {
    const found = parseNicepayInquiry({
      resultCd: '0000',
      resultMsg: 'paid',
      tXid: 'T',
      referenceNo: 'R',
      amt: '10000',
      currency: 'idr',
      payMethod: '02',
      status: '0',
    });
    assert.equal(found.kind, 'found');
    assert.ok(found.kind === 'found');
    assert.deepEqual(
      { ...found.report, raw: undefined },
      {
        status: 'succeeded',
        providerStatus: '0',
        providerTransactionId: 'T',
        merchantReference: 'R',
        amount: '10000',
        currency: 'IDR',
        raw: undefined,
        warnings: [],
      },
    );
    assert.equal(parseNicepayInquiry({ resultCd: '9010', resultMsg: 'x' }).kind, 'refused');
    assert.equal(parseNicepayInquiry({ resultCd: '9011', resultMsg: 'x' }).kind, 'refused');
    for (const code of ['1001', '1002', '1003', '1004'])
      assert.equal(parseNicepayInquiry({ resultCd: code }).kind, 'unavailable');
    assert.equal(parseNicepayInquiry({ resultCd: '9999' }).kind, 'unknown');
    assert.equal(parseNicepayInquiry('not json').kind, 'unavailable');
  });
});

describe('MCPayment inquiry', () => {
  const credentials = { hashKey: 'HASHKEY123', merchantId: 'M01', secretUnboundId: 'S3CRET' };
  const transaction = {
    externalId: '18457738645627',
    orderId: 'Test-01',
    transactionId: '8393c208-8b83-49eb-8c0b-0b50016e7401',
    paymentChannel: 'BRI',
  };

  it('VA: Basic auth, x-req-signature = SHA-256(hash_key + external_id + order_id), x-version v3', () => {
    const request = mcpaymentInquiryRequest(credentials, {
      ...transaction,
      paymentMethod: 'BANK_TRANSFER',
    });
    assert.equal(request.path, '/va/inquiry');
    assert.equal(
      request.headers.authorization,
      `Basic ${Buffer.from('M01:S3CRET').toString('base64')}`,
    );
    assert.equal(
      request.headers['x-req-signature'],
      '5db01f5423c20ee721ce1f2ea2e9daaebb6ef9d0da3b4f014f2c3b5eebc686c9',
    );
    assert.equal(request.headers['x-version'], 'v3');
    assert.equal(request.body.payment_method, 'BANK_TRANSFER');
    assert.equal(request.body.external_id, '18457738645627');
  });

  it('e-wallet payments use /ewallet/v2/inquiry with payment_method "wallet"', () => {
    const request = mcpaymentInquiryRequest(credentials, {
      ...transaction,
      paymentMethod: 'EWALLET',
    });
    assert.equal(request.path, '/ewallet/v2/inquiry');
    assert.equal(request.body.payment_method, 'wallet');
  });

  it('parses the callback shape at the top level or under data, tolerantly', () => {
    const body = {
      transaction_id: 'id-1',
      external_id: 'e',
      order_id: 'o',
      transaction_status: 'paid',
      currency: 'IDR',
      payment_details: { amount: 10000.1 },
      response_code: '00',
    };
    for (const answer of [body, { response_code: '00', data: body }, { data: [body] }]) {
      const parsed = parseMcpaymentInquiry(200, answer);
      assert.ok(parsed.kind === 'found', JSON.stringify(parsed));
      assert.equal(parsed.report.status, 'succeeded');
      assert.equal(parsed.report.amount, '10000.1');
      assert.equal(parsed.report.merchantReference, 'o');
    }
    const odd = parseMcpaymentInquiry(200, { ...body, transaction_status: 'HELD' });
    assert.ok(odd.kind === 'found');
    assert.equal(odd.report.status, 'pending');
    assert.match(odd.report.warnings[0], /HELD/);
    assert.equal(parseMcpaymentInquiry(200, { response_code: '00' }).kind, 'unknown');
    assert.equal(parseMcpaymentInquiry(404, { response_code: '404' }).kind, 'unknown');
    assert.equal(parseMcpaymentInquiry(401, {}).kind, 'refused');
    assert.equal(parseMcpaymentInquiry(502, null).kind, 'unavailable');
  });

  it('sums refund_history exactly', () => {
    assert.equal(
      mcpaymentRefundedTotal([{ refund_amount: 1000 }, { refund_amount: '500.5' }]),
      '1500.50',
    );
    assert.equal(mcpaymentRefundedTotal([]), null);
  });
});

describe('S88Pay transaction status', () => {
  const credentials = { apiKey: 'myapikey', secretKey: 'mysecretkey' };

  it('key= encrypts merchant_api_key=<api_key>&transaction_code=<code> like the callbacks', () => {
    const body = s88payStatusRequestBody(credentials, 'ORD-1');
    assert.match(body, /^key=[A-Za-z0-9%]+$/, 'percent-encoded base64 (no raw + / =)');
    const key = new URLSearchParams(body).get('key')!;
    assert.equal(
      decryptS88payKey(key, credentials),
      'merchant_api_key=myapikey&transaction_code=ORD-1',
    );
    // AES key / IV are the documented ones (S88Pay vector): the decryption above used them.
    assert.equal(
      sha256('myapikey'),
      '8c4b51e4147fe781f3d00a947187dd3966b6de8819ac9e20a0890fd24923e5fd',
    );
  });

  it('reads data[] for the transaction, "null" strings as null', () => {
    const parsed = parseS88payStatus(
      200,
      {
        success: true,
        message: 'ok',
        data: [
          {
            transaction_code: 'ORD-1',
            transaction_no: 'DP-1',
            status: 'completed',
            amount: '150000.00',
            currency_code: 'idr',
            transaction_fee: 'null',
            type: 'deposit',
          },
        ],
      },
      'ORD-1',
    );
    assert.ok(parsed.kind === 'found');
    assert.equal(parsed.report.status, 'succeeded');
    assert.equal(parsed.report.amount, '150000.00');
    assert.equal(parsed.report.currency, 'IDR');
    assert.equal(parsed.report.providerTransactionId, 'DP-1');
    const nulls = parseS88payStatus(
      200,
      {
        success: true,
        data: [
          {
            transaction_code: 'ORD-1',
            status: 'pending',
            amount: 'null',
            currency_code: 'null',
            transaction_no: 'null',
          },
        ],
      },
      'ORD-1',
    );
    assert.ok(nulls.kind === 'found');
    assert.equal(nulls.report.amount, null);
    assert.equal(nulls.report.currency, null);
    assert.equal(nulls.report.providerTransactionId, null);
    assert.equal(parseS88payStatus(200, { success: true, data: [] }, 'ORD-1').kind, 'unknown');
    assert.equal(
      parseS88payStatus(
        200,
        { success: true, data: [{ transaction_code: 'OTHER', status: 'completed' }] },
        'ORD-1',
      ).kind,
      'unknown',
    );
    assert.equal(parseS88payStatus(401, { success: false }, 'ORD-1').kind, 'refused');
    assert.equal(parseS88payStatus(503, null, 'ORD-1').kind, 'unavailable');
  });
});
