import { transactionKeyOf } from '../../src/events/normalized-transaction.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFields } from '../../src/common/validate-fields.js';
import { SidopulsaReportDto } from '../../src/providers/sidopulsa/sidopulsa.dto.js';
import { SIDOPULSA_ACK, SIDOPULSA_STATUS } from '../../src/providers/sidopulsa/sidopulsa.facts.js';
import { SidopulsaProvider } from '../../src/providers/sidopulsa/sidopulsa.provider.js';
import {
  SIDOPULSA_FAILED_SAMPLE,
  SIDOPULSA_SUCCESS_SAMPLE,
} from '../../src/providers/sidopulsa/sidopulsa.samples.js';
import { SIDOPULSA } from '../support/credentials.js';
import { httpError, inboundReport, topupConfig } from '../support/ppob-sidopulsa.js';

const provider = new SidopulsaProvider(
  topupConfig('sidopulsa', { allowed: '127.0.0.1', token: SIDOPULSA.token }),
);

async function map(fields: Record<string, string>) {
  const verified = provider.authenticate(
    inboundReport('sidopulsa', fields, { token: SIDOPULSA.token }),
  );
  return provider.normalize(
    await validateFields(SidopulsaReportDto, verified.fields, 'Sidopulsa callback'),
    verified,
  );
}

describe('Sidopulsa status table', () => {
  it('is exactly 1 → succeeded, 2 → failed (the table, not the page\'s "success" example)', () => {
    assert.deepEqual(SIDOPULSA_STATUS, { '1': 'succeeded', '2': 'failed' });
  });

  for (const value of ['0', '3', '01', ' 1', 'sukses', '']) {
    it(`refuses statuscode ${JSON.stringify(value)} with a 400 naming it`, async () => {
      assert.throws(
        () =>
          validateFields(
            SidopulsaReportDto,
            { ...SIDOPULSA_SUCCESS_SAMPLE, statuscode: value },
            'Sidopulsa callback',
          ),
        httpError(
          400,
          new RegExp(
            `statuscode ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a known status`,
          ),
        ),
      );
    });
  }
});

describe('Sidopulsa mapper', () => {
  it('maps the success example (statuscode 1) to a topup.succeeded transaction', async () => {
    assert.deepEqual(await map(SIDOPULSA_SUCCESS_SAMPLE), {
      domain: 'topup',
      status: 'succeeded',
      providerStatus: '1',
      providerTransactionId: '36203827',
      merchantReference: '99323877',
      amount: '9000',
      currency: 'IDR',
      fee: null,
      paymentMethod: null,
      channel: null,
      product: { code: 'TT5', destination: '081299999999', serialNumber: 'OPTR9039938DS' },
      occurredAt: null,
      raw: SIDOPULSA_SUCCESS_SAMPLE,
      // The order answer (ref_id only) and this report form one transaction.
      identifiedBy: 'merchantReference',
    });
    assert.equal(transactionKeyOf(await map(SIDOPULSA_SUCCESS_SAMPLE)), '99323877');
  });

  it('maps the failure example: serialNumber null (sn is a failure text), the text kept in raw', async () => {
    const tx = await map(SIDOPULSA_FAILED_SAMPLE);
    assert.equal(tx.status, 'failed');
    assert.equal(tx.providerStatus, '2');
    assert.deepEqual(tx.product, { code: 'TT5', destination: '081299999999', serialNumber: null });
    assert.equal(tx.raw.sn, 'Trx gagal');
    assert.equal(
      tx.raw.message,
      'TRX TT5.081299999999 GAGAL, Trx gagal. SISA SALDO:5550 CLIENTID=99323877.',
    );
  });

  it('keeps price as written (decimal string) and missing product fields as null', async () => {
    const bare: Record<string, string> = { ...SIDOPULSA_SUCCESS_SAMPLE, price: '10500.50' };
    for (const field of ['kp', 'msisdn', 'sn', 'message']) delete bare[field];
    const tx = await map(bare);
    assert.equal(tx.amount, '10500.50');
    assert.deepEqual(tx.product, { code: null, destination: null, serialNumber: null });
  });

  for (const price of ['abc', '9.000', '9,000', '-9000', '1e4', '']) {
    it(`refuses price ${JSON.stringify(price)} (400)`, async () => {
      await assert.rejects(
        map({ ...SIDOPULSA_SUCCESS_SAMPLE, price }),
        httpError(400, /price must be a decimal amount/),
      );
    });
  }

  for (const field of ['serverid', 'clientid', 'price', 'statuscode']) {
    it(`refuses a report without ${field} (400 naming it)`, async () => {
      const fields: Record<string, string> = { ...SIDOPULSA_SUCCESS_SAMPLE };
      delete fields[field];
      await assert.rejects(map(fields), httpError(400, new RegExp(field)));
    });
  }

  it('acknowledges with 200 text/plain OK', () => {
    assert.deepEqual(provider.ack(), SIDOPULSA_ACK);
    assert.deepEqual(SIDOPULSA_ACK, { status: 200, contentType: 'text/plain', body: 'OK' });
  });
});

describe('Sidopulsa authentication (allowlist + URL token)', () => {
  it('accepts the right token from an allowed address; fields are the query only, no token anywhere', () => {
    const verified = provider.authenticate(
      inboundReport('sidopulsa', SIDOPULSA_SUCCESS_SAMPLE, { token: SIDOPULSA.token }),
    );
    assert.deepEqual(verified, {
      account: 'default',
      key: '1',
      fields: SIDOPULSA_SUCCESS_SAMPLE,
      verification: 'source 127.0.0.1 allowed; URL token matched',
    });
    assert.ok(!JSON.stringify(verified).includes(SIDOPULSA.token));
  });

  it('checks the address first: a foreign address is 403 whatever the token', () => {
    for (const token of [SIDOPULSA.token, 'wrong', undefined]) {
      assert.throws(
        () =>
          provider.authenticate(
            inboundReport('sidopulsa', SIDOPULSA_SUCCESS_SAMPLE, { token, ip: '203.0.113.9' }),
          ),
        httpError(403, /203\.0\.113\.9 is not allowed to send Sidopulsa callbacks/),
      );
    }
  });

  it('requires the token when one is configured (401 token required), refuses a wrong one (401)', () => {
    assert.throws(
      () => provider.authenticate(inboundReport('sidopulsa', SIDOPULSA_SUCCESS_SAMPLE)),
      httpError(401, /token required/),
    );
    for (const token of [
      '',
      'sidopulsa-test-token-012345678',
      `${SIDOPULSA.token}0`,
      SIDOPULSA.token.toUpperCase(),
    ]) {
      const attempt = () =>
        provider.authenticate(inboundReport('sidopulsa', SIDOPULSA_SUCCESS_SAMPLE, { token }));
      assert.throws(
        attempt,
        httpError(401, token === '' ? /token required/ : /token does not match/),
      );
      assert.throws(attempt, (e: Error) => !e.message.includes(SIDOPULSA.token));
    }
  });

  it('refuses a repeated query key (Express gives an array) with 400', () => {
    assert.throws(
      () =>
        provider.authenticate(
          inboundReport(
            'sidopulsa',
            { ...SIDOPULSA_SUCCESS_SAMPLE, statuscode: ['1', '2'] },
            { token: SIDOPULSA.token },
          ),
        ),
      httpError(400, /query parameter statuscode must appear once/),
    );
  });

  it('is disabled when neither SIDOPULSA_ALLOWED_IPS nor SIDOPULSA_CALLBACK_TOKEN is set', () => {
    assert.equal(new SidopulsaProvider(topupConfig('sidopulsa', null)).isEnabled(), false);
    assert.equal(provider.isEnabled(), true);
  });
});
