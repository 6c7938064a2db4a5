import assert from 'node:assert/strict';
import { createDecipheriv, createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import {
  mcpaymentInquiryRequest,
  mcpaymentRefundedTotal,
  McpaymentStatusApi,
  parseMcpaymentInquiry,
} from '../../src/providers/mcpayment/mcpayment.status-api.js';
import { nicepayInquiryStatus } from '../../src/providers/nicepay/nicepay.facts.js';
import { NICEPAY_SANDBOX } from '../../src/providers/nicepay/nicepay.samples.js';
import {
  nicepayAnswerTime,
  nicepayInquiryRequest,
  nicepayInquiryToken,
  NicepayStatusApi,
  nicepayTimeStamp,
  parseNicepayInquiry,
} from '../../src/providers/nicepay/nicepay.status-api.js';
import { decryptS88payKey } from '../../src/providers/s88pay/s88pay.crypto.js';
import {
  parseS88payStatus,
  s88payStatusPlaintext,
  s88payStatusRequestBody,
  S88payStatusApi,
} from '../../src/providers/s88pay/s88pay.status-api.js';
import {
  type InquiryAnswer,
  rfc3339Time,
  type StatusQuery,
} from '../../src/verification/status-api.js';
import { PROVIDER_ENV } from '../support/credentials.js';
import { inquiryEnv } from '../support/sandbox.js';

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
        refundedTotal: null,
        paymentMethod: 'virtual_account',
        channel: null,
        fee: null,
        occurredAt: null,
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
      '1500.5',
    );
    assert.equal(
      mcpaymentRefundedTotal([{ refund_amount: 0.005 }, { refund_amount: '0.005' }]),
      '0.01',
      'exact: no rounding of fractions below a cent',
    );
    assert.equal(mcpaymentRefundedTotal([]), null);
    assert.equal(mcpaymentRefundedTotal([{ refund_amount: 'ten' }]), null);
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

const kindOf = (answer: InquiryAnswer) => answer.kind;
const reportOf = (answer: InquiryAnswer) => {
  assert.ok(answer.kind === 'found', JSON.stringify(answer));
  return answer.report;
};

/** Status APIs configured like the gateway (their inquiries are not sent in these tests). */
const config = loadConfig({ ...PROVIDER_ENV, ...inquiryEnv('http://127.0.0.1:9') });
const query = (overrides: Partial<StatusQuery> = {}): StatusQuery => ({
  account: 'default',
  providerTransactionId: 'TX-1',
  merchantReference: 'ORD-1',
  amount: '150000',
  currency: 'IDR',
  paymentMethod: null,
  channel: null,
  raw: {},
  ...overrides,
});

describe('answer timestamps', () => {
  it('RFC 3339 with an offset becomes UTC; no offset, impossible dates and junk are null', () => {
    assert.equal(rfc3339Time('2023-11-07T05:31:56Z'), '2023-11-07T05:31:56.000Z');
    assert.equal(rfc3339Time('2025-11-21T12:05:12.136+07:00'), '2025-11-21T05:05:12.136Z');
    assert.equal(rfc3339Time('2025-11-21 12:05:12+07:00'), '2025-11-21T05:05:12.000Z');
    assert.equal(rfc3339Time('2025-11-21T12:05:12.136123456-03:30'), '2025-11-21T15:35:12.136Z');
    assert.equal(rfc3339Time('2025-11-21T12:05:12'), null, 'local to whom?');
    assert.equal(rfc3339Time('2025-02-30T12:05:12Z'), null);
    assert.equal(rfc3339Time('2025-11-21T24:00:00Z'), null);
    assert.equal(rfc3339Time('1700000000'), null);
    assert.equal(rfc3339Time(1700000000), null);
    assert.equal(rfc3339Time('null'), null);
  });

  it('NICEPAY transDt/transTm are Jakarta time', () => {
    assert.equal(nicepayAnswerTime('20251121', '120512'), '2025-11-21T05:05:12.000Z');
    assert.equal(nicepayAnswerTime('20251321', '120512'), null);
    assert.equal(nicepayAnswerTime('20251121', null), null);
    assert.equal(nicepayAnswerTime('2025-11-21', '12:05:12'), null);
  });
});

describe('NICEPAY inquiry answers: only a well-formed answer confirms or denies', () => {
  const ok = {
    resultCd: '0000',
    resultMsg: 'paid',
    tXid: 'IONPAYTEST02202511211205120001',
    iMid: 'IONPAYTEST',
    referenceNo: 'ORD-1',
    amt: '150000',
    currency: 'IDR',
    payMethod: '02',
    status: '0',
    transDt: '20251121',
    transTm: '120000',
    depositDt: '20251121',
    depositTm: '120512',
    bankCd: 'bmri',
    mitraCd: null,
    vacctNo: '8888000012345678',
  };

  it('transient: no JSON object, no resultCd, documented retry codes, 0000 without a status', () => {
    for (const answer of [undefined, null, 'not json', 42, [ok], {}, { resultMsg: 'x' }])
      assert.equal(kindOf(parseNicepayInquiry(answer)), 'unavailable', JSON.stringify(answer));
    assert.equal(kindOf(parseNicepayInquiry({ ...ok, resultCd: '' })), 'unavailable');
    assert.equal(kindOf(parseNicepayInquiry({ ...ok, resultCd: null })), 'unavailable');
    for (const code of ['1001', '1002', '1003', '1004', '9002', '9507'])
      assert.equal(kindOf(parseNicepayInquiry({ resultCd: code })), 'unavailable', code);
    const noStatus = parseNicepayInquiry({ ...ok, status: undefined });
    assert.equal(noStatus.kind, 'unavailable');
    assert.equal(kindOf(parseNicepayInquiry({ ...ok, status: '' })), 'unavailable');
  });

  it('documented configuration errors are refused; other codes do not confirm (unknown)', () => {
    assert.equal(kindOf(parseNicepayInquiry({ resultCd: '9010', resultMsg: 'x' })), 'refused');
    assert.equal(kindOf(parseNicepayInquiry({ resultCd: '9011' })), 'refused');
    const notFound = parseNicepayInquiry({ resultCd: '9999', resultMsg: 'Transaction not found' });
    assert.ok(notFound.kind === 'unknown');
    assert.match(notFound.reason, /9999 Transaction not found/);
    assert.equal(kindOf(parseNicepayInquiry({ resultCd: 9999 })), 'unknown');
  });

  it('reads the facts in the callback mapper vocabulary', () => {
    const report = reportOf(parseNicepayInquiry(ok));
    assert.equal(report.status, 'succeeded');
    assert.equal(report.paymentMethod, 'virtual_account');
    assert.equal(report.channel, 'BMRI');
    assert.equal(report.occurredAt, '2025-11-21T05:05:12.000Z', 'deposit time, Jakarta → UTC');
    assert.equal(report.fee, null, 'the inquiry answer documents no fee');
    assert.equal(report.refundedTotal, null);

    const card = reportOf(
      parseNicepayInquiry({
        ...ok,
        payMethod: '01',
        status: '2',
        bankCd: null,
        depositDt: null,
        depositTm: null,
        issuBankCd: 'null',
        acquBankCd: 'bnin',
        fee: '1500',
      }),
    );
    assert.equal(card.status, 'refunded');
    assert.equal(card.paymentMethod, 'card');
    assert.equal(card.channel, 'BNIN');
    assert.equal(card.fee, '1500');
    assert.equal(card.occurredAt, '2025-11-21T05:00:00.000Z', 'transaction time without a deposit');
  });

  it('facts the answer does not state are null, never guessed', () => {
    const bare = reportOf(parseNicepayInquiry({ resultCd: '0000', status: '0' }));
    assert.deepEqual(
      [bare.providerTransactionId, bare.merchantReference, bare.amount, bare.currency],
      [null, null, null, null],
    );
    assert.equal(bare.paymentMethod, null);
    assert.equal(bare.status, 'pending', 'no payMethod: no status table');
    assert.equal(reportOf(parseNicepayInquiry({ ...ok, amt: '1e5' })).amount, null);
    assert.equal(reportOf(parseNicepayInquiry({ ...ok, currency: 'null' })).currency, null);
  });

  it('requires all four facts; one inquiry per tXid, referenceNo and amt as sent', () => {
    const api = new NicepayStatusApi(config);
    assert.deepEqual([...api.requiredFacts].sort(), [
      'amount',
      'currency',
      'merchantReference',
      'providerTransactionId',
    ]);
    const a = query({ raw: { amt: '150000' } });
    assert.equal(api.queryKey(a), JSON.stringify(['TX-1', 'ORD-1', '150000']));
    assert.equal(api.queryKey({ ...a, raw: { amt: '150000', status: '1' } }), api.queryKey(a));
    assert.notEqual(api.queryKey({ ...a, raw: { amt: '150000.00' } }), api.queryKey(a));
    assert.notEqual(api.queryKey({ ...a, merchantReference: 'ORD-2' }), api.queryKey(a));
  });
});

describe('MCPayment inquiry answers: only a well-formed answer confirms or denies', () => {
  const transaction = {
    transaction_id: '8393c208-8b83-49eb-8c0b-0b50016e7401',
    external_id: '18457738645627',
    order_id: 'Test-01',
    transaction_status: 'PAID',
    currency: 'IDR',
    payment_method: 'BANK_TRANSFER',
    payment_channel: 'bri',
    transaction_time: '2025-11-21T12:00:20.592+07:00',
    payment_details: {
      amount: 150000,
      total_fee_amount: 4000,
      paid_time: '2025-11-21T12:05:12.136+07:00',
    },
    response_code: '00',
  };

  it('transient: HTML error pages, non-objects, bodies with neither transaction nor code, 5xx', () => {
    assert.equal(kindOf(parseMcpaymentInquiry(200, undefined)), 'unavailable', 'not JSON');
    for (const answer of [null, 'ok', 7, [transaction], true])
      assert.equal(
        kindOf(parseMcpaymentInquiry(200, answer)),
        'unavailable',
        JSON.stringify(answer),
      );
    assert.equal(kindOf(parseMcpaymentInquiry(200, {})), 'unavailable');
    assert.equal(kindOf(parseMcpaymentInquiry(200, { message: 'Bad Gateway' })), 'unavailable');
    assert.equal(kindOf(parseMcpaymentInquiry(404, undefined)), 'unavailable', 'a 404 page');
    assert.equal(kindOf(parseMcpaymentInquiry(201, transaction)), 'unavailable');
    for (const status of [500, 502, 503, 504, 408, 429])
      assert.equal(kindOf(parseMcpaymentInquiry(status, transaction)), 'unavailable');
    const noStatus = parseMcpaymentInquiry(200, { ...transaction, transaction_status: null });
    assert.equal(noStatus.kind, 'unavailable');
  });

  it('401 / 403 refuse our credentials; a JSON error body is MCPayment not confirming', () => {
    assert.equal(kindOf(parseMcpaymentInquiry(401, {})), 'refused');
    assert.equal(kindOf(parseMcpaymentInquiry(403, undefined)), 'refused');
    const notFound = parseMcpaymentInquiry(404, {
      response_code: '404',
      response_message: 'Transaction not found',
    });
    assert.ok(notFound.kind === 'unknown');
    assert.match(notFound.reason, /does not know the transaction/);
    assert.equal(kindOf(parseMcpaymentInquiry(200, { response_code: '00' })), 'unknown');
    assert.equal(kindOf(parseMcpaymentInquiry(400, { response_code: '400' })), 'unknown');
  });

  it('reads the facts in the callback mapper vocabulary', () => {
    const paid = reportOf(parseMcpaymentInquiry(200, transaction));
    assert.equal(paid.status, 'succeeded');
    assert.equal(paid.amount, '150000');
    assert.equal(paid.currency, 'IDR');
    assert.equal(paid.paymentMethod, 'bank_transfer');
    assert.equal(paid.channel, 'BRI');
    assert.equal(paid.fee, '4000');
    assert.equal(paid.occurredAt, '2025-11-21T05:05:12.136Z', 'paid time');
    assert.equal(paid.refundedTotal, null);

    const refunded = reportOf(
      parseMcpaymentInquiry(200, {
        data: {
          ...transaction,
          transaction_status: 'REFUNDED',
          payment_method: 'EWALLET',
          payment_channel: null,
          issuer: 'OVO ',
          refund_history: [
            { refund_amount: 100000, refund_time: '2025-11-22T10:00:00+07:00' },
            { refund_amount: '50000.50', refund_time: '2025-11-23T10:00:00+07:00' },
          ],
        },
      }),
    );
    assert.equal(refunded.status, 'refunded');
    assert.equal(refunded.refundedTotal, '150000.5');
    assert.equal(refunded.paymentMethod, 'ewallet');
    assert.equal(refunded.channel, 'OVO');
    assert.equal(refunded.occurredAt, '2025-11-23T03:00:00.000Z', 'the latest refund');

    const bare = reportOf(
      parseMcpaymentInquiry(200, { transaction_status: 'ACTIVE', payment_details: {} }),
    );
    assert.deepEqual(
      [
        bare.providerTransactionId,
        bare.merchantReference,
        bare.amount,
        bare.currency,
        bare.paymentMethod,
        bare.channel,
        bare.fee,
        bare.occurredAt,
      ],
      [null, null, null, null, null, null, null, null],
    );
  });

  it('requires all four facts; one inquiry per request body (ids, route method, channel)', () => {
    const api = new McpaymentStatusApi(config);
    assert.deepEqual([...api.requiredFacts].sort(), [
      'amount',
      'currency',
      'merchantReference',
      'providerTransactionId',
    ]);
    const raw = {
      external_id: 'E1',
      order_id: 'O1',
      transaction_id: 'T1',
      payment_method: 'EWALLET',
      payment_channel: 'OVO',
    };
    assert.equal(api.queryKey(query({ raw })), JSON.stringify(['E1', 'O1', 'T1', 'wallet', 'OVO']));
    assert.equal(
      api.queryKey(query({ raw: { ...raw, payment_method: 'E_WALLET', transaction_status: 'X' } })),
      api.queryKey(query({ raw })),
      'the same request body',
    );
    assert.notEqual(
      api.queryKey(query({ raw: { ...raw, payment_channel: 'DANA' } })),
      api.queryKey(query({ raw })),
    );
    assert.notEqual(
      api.queryKey(query({ raw: { ...raw, external_id: 'E1O', order_id: '1' } })),
      api.queryKey(query({ raw })),
      'a shifted id split is another question',
    );
  });
});

describe('S88Pay status answers: only a well-formed answer confirms or denies', () => {
  // The documented answer of the transaction status page.
  const documented = {
    data: [
      {
        amount: 500,
        currency_code: 'INR',
        currency_name: 'Indian Rupee',
        datetime: '2023-11-07T05:31:56Z',
        method_name: 'UPI 3',
        note: 'null',
        status: 'pending',
        transaction_code: 'TEST-DP-1678780607',
        transaction_fee: 15,
        transaction_no: 'DP1678780607892',
        transaction_ref: 'null',
        transaction_ref2: 'null',
        type: 'deposit',
      },
    ],
    message: 'Request transaction list successful',
    success: true,
  };
  const code = 'TEST-DP-1678780607';

  it('reads the documented answer', () => {
    const report = reportOf(parseS88payStatus(200, documented, code));
    assert.equal(report.status, 'pending');
    assert.equal(report.amount, '500');
    assert.equal(report.currency, 'INR');
    assert.equal(report.fee, '15');
    assert.equal(report.providerTransactionId, 'DP1678780607892');
    assert.equal(report.occurredAt, '2023-11-07T05:31:56.000Z');
    assert.equal(report.paymentMethod, null, 'method_name is a display name');
    assert.equal(report.channel, null);
    assert.equal(report.refundedTotal, null);
  });

  it('the credential refusal (HTTP 200, success false, code 115) and 401 / 403 are refused', () => {
    for (const refusal of [115, '115']) {
      const refused = parseS88payStatus(
        200,
        { success: false, code: refusal, message: 'Invalid merchant api key', data: [] },
        code,
      );
      assert.ok(refused.kind === 'refused', JSON.stringify(refused));
      assert.match(refused.reason, /code 115 Invalid merchant api key/);
    }
    assert.equal(
      kindOf(parseS88payStatus(200, { success: false, code: 115, message: 'x' }, code)),
      'refused',
      'without a data list too',
    );
    assert.equal(kindOf(parseS88payStatus(401, { success: false }, code)), 'refused');
    assert.equal(kindOf(parseS88payStatus(403, undefined, code)), 'refused');
  });

  it('transient: non-JSON, no boolean success, no data list, other HTTP statuses', () => {
    assert.equal(kindOf(parseS88payStatus(200, undefined, code)), 'unavailable');
    for (const answer of [null, [], 'success', { message: 'x', data: [] }, { success: 'true' }])
      assert.equal(
        kindOf(parseS88payStatus(200, answer, code)),
        'unavailable',
        JSON.stringify(answer),
      );
    assert.equal(
      kindOf(parseS88payStatus(200, { success: false, message: 'System error' }, code)),
      'unavailable',
    );
    assert.equal(kindOf(parseS88payStatus(200, { success: true, data: {} }, code)), 'unavailable');
    for (const status of [400, 404, 500, 502, 503, 408, 429, 201])
      assert.equal(kindOf(parseS88payStatus(status, documented, code)), 'unavailable', `${status}`);
    const noStatus = structuredClone(documented);
    noStatus.data[0].status = 'null';
    assert.equal(kindOf(parseS88payStatus(200, noStatus, code)), 'unavailable');
  });

  it('unknown only for a well-formed answer without the transaction', () => {
    const notFound = parseS88payStatus(
      200,
      { success: false, message: 'Transaction not found', data: [] },
      code,
    );
    assert.ok(notFound.kind === 'unknown');
    assert.match(
      notFound.reason,
      /does not report transaction TEST-DP-1678780607 \(Transaction not found\)/,
    );
    assert.equal(kindOf(parseS88payStatus(200, { success: true, data: [] }, code)), 'unknown');
    assert.equal(kindOf(parseS88payStatus(200, documented, 'OTHER')), 'unknown');
  });

  it('requires reference, amount and currency; one inquiry per transaction code', () => {
    const api = new S88payStatusApi(config);
    assert.deepEqual([...api.requiredFacts].sort(), ['amount', 'currency', 'merchantReference']);
    assert.equal(api.queryKey(query()), JSON.stringify(['ORD-1']));
    assert.equal(
      api.queryKey(query({ amount: '1', raw: { transaction_status: 3 } })),
      api.queryKey(query()),
    );
  });

  it('the status request carries the api key exactly as issued (%3D, +, /, = untouched)', () => {
    const credentials = { apiKey: 'ab%3Dc+d/e==', secretKey: 'mysecretkey' };
    assert.equal(
      s88payStatusPlaintext(credentials.apiKey, 'ORD-1'),
      'merchant_api_key=ab%3Dc+d/e==&transaction_code=ORD-1',
    );
    // Decrypted here with S88Pay's documented algorithm, not with the gateway's code.
    const key = new URLSearchParams(s88payStatusRequestBody(credentials, 'ORD-1')).get('key')!;
    const decipher = createDecipheriv(
      'aes-256-cbc',
      createHash('sha256').update(credentials.apiKey).digest(),
      Buffer.from(sha256(credentials.secretKey).slice(0, 16), 'ascii'),
    );
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(key, 'base64')),
      decipher.final(),
    ]).toString('utf8');
    assert.equal(plaintext, 'merchant_api_key=ab%3Dc+d/e==&transaction_code=ORD-1');
  });
});
