import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import {
  nicepayMerchantToken,
  NicepayProvider,
} from '../../src/providers/nicepay/nicepay.provider.js';
import {
  NICEPAY_SANDBOX,
  NICEPAY_VA_DEPOSIT_SAMPLE,
} from '../../src/providers/nicepay/nicepay.samples.js';
import { nicepayToken } from '../support/nicepay.js';

describe('NICEPAY', () => {
  it('merchantToken is SHA-256(iMid + tXid + amt + merchantKey) in lowercase hex', () => {
    // Computed independently: printf %s 'IONPAYTEST' 'TX123' '20' 'key' | sha256sum
    assert.equal(
      nicepayMerchantToken('IONPAYTEST', 'TX123', '20', 'key'),
      '1791bff875bfdb0564d570ee514eba90e166985f2034d113f569e24975dab7eb',
    );
  });

  it('the Swagger sample is genuinely signed for the demo credentials', () => {
    const s = NICEPAY_VA_DEPOSIT_SAMPLE;
    assert.equal(
      s.merchantToken,
      nicepayToken(NICEPAY_SANDBOX.iMid, s.tXid, s.amt, NICEPAY_SANDBOX.merchantKey),
    );
  });

  it("maps a card deposit with NICEPAY's misspelled issuing-bank field", () => {
    const provider = new NicepayProvider(
      loadConfig({ NICEPAY_IMID: 'IONPAYTEST', NICEPAY_MERCHANT_KEY: 'k' }),
    );
    const fields = {
      tXid: 'IONPAYTEST01202510271659168614',
      referenceNo: '382 20251027165916',
      payMethod: '01',
      amt: '20',
      currency: 'idr',
      transDt: '20251027',
      transTm: '165916',
      issuBankCd: 'btpn',
      'cc trans type': '1',
      status: '0',
      merchantToken: 'x',
      cardNo: '51234500****0008',
    };
    const tx = provider.normalize(fields as never, {
      account: 'IONPAYTEST',
      fields,
      verification: '',
    });
    assert.equal(tx.status, 'succeeded');
    assert.equal(tx.paymentMethod, 'card');
    assert.equal(tx.channel, 'BTPN');
    assert.equal(tx.currency, 'IDR');
    assert.equal(tx.amount, '20');
    assert.equal(tx.occurredAt?.toISOString(), '2025-10-27T09:59:16.000Z');
    assert.equal(tx.raw['cc trans type'], '1', 'unknown fields kept');
  });
});
