import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transactionKeyOf } from '../../src/events/normalized-transaction.js';
import { eventIdFor } from '../../src/events/transaction-event.js';
import { validateFields } from '../../src/common/validate-fields.js';
import { PpobReportDto } from '../../src/providers/ppob/ppob.dto.js';
import { PPOB_ACK, PPOB_STATUS } from '../../src/providers/ppob/ppob.facts.js';
import { PpobProvider } from '../../src/providers/ppob/ppob.provider.js';
import { PPOB } from '../support/credentials.js';
import { httpError, inboundReport, topupConfig } from '../support/ppob-sidopulsa.js';

const provider = new PpobProvider(topupConfig('ppob', { allowed: '127.0.0.1', token: PPOB.token }));
const report = {
  ref_id: '10327',
  status: 'Success',
  sn: '0512345678901234',
  code: 'S10',
  destination: '08123214214',
};

async function map(fields: Record<string, string>) {
  const verified = provider.authenticate(inboundReport('ppob', fields, { token: PPOB.token }));
  return provider.normalize(
    await validateFields(PpobReportDto, verified.fields, 'PPOB callback'),
    verified,
  );
}

describe('PPOB status table', () => {
  it("maps Pending / Success / Failed (and the request API's Waiting) in lower case", () => {
    assert.deepEqual(PPOB_STATUS, {
      pending: 'pending',
      waiting: 'pending',
      success: 'succeeded',
      failed: 'failed',
    });
  });

  const cases: Array<[string, string]> = [
    ['Pending', 'pending'],
    ['PENDING', 'pending'],
    ['pending', 'pending'],
    ['Success', 'succeeded'],
    ['SUCCESS', 'succeeded'],
    ['success', 'succeeded'],
    ['Failed', 'failed'],
    ['FAILED', 'failed'],
    ['failed', 'failed'],
  ];
  for (const [status, expected] of cases) {
    it(`status ${status} → ${expected}, providerStatus kept verbatim`, async () => {
      const tx = await map({ ...report, status });
      assert.equal(tx.status, expected);
      assert.equal(tx.providerStatus, status);
    });
  }

  for (const status of ['Sukses', 'Gagal', 'Refunded', 'succeeded', '1', '']) {
    it(`refuses status ${JSON.stringify(status)} with a 400 naming it`, async () => {
      await assert.rejects(
        map({ ...report, status }),
        httpError(400, new RegExp(`status "${status}" is not a known status`)),
      );
    });
  }
});

describe('PPOB mapper', () => {
  it('maps a Success report: subject ref_id, no provider id, no amount, IDR, product from code/destination/sn', async () => {
    assert.deepEqual(await map(report), {
      domain: 'topup',
      status: 'succeeded',
      providerStatus: 'Success',
      providerTransactionId: null,
      merchantReference: '10327',
      amount: null,
      currency: 'IDR',
      fee: null,
      paymentMethod: null,
      channel: null,
      product: { code: 'S10', destination: '08123214214', serialNumber: '0512345678901234' },
      occurredAt: null,
      raw: report,
    });
  });

  it("accepts the document's capitalised Sn / Code, keeping them as sent in raw", async () => {
    const { sn, code, ...rest } = report;
    const fields = { ...rest, Sn: sn, Code: code };
    const tx = await map(fields);
    assert.deepEqual(tx.product, {
      code: 'S10',
      destination: '08123214214',
      serialNumber: '0512345678901234',
    });
    assert.deepEqual(tx.raw, fields);
  });

  it('prefers lower-case sn / code when both spellings are sent', async () => {
    const tx = await map({ ...report, Sn: 'other', Code: 'OTHER' });
    assert.deepEqual(tx.product, {
      code: 'S10',
      destination: '08123214214',
      serialNumber: '0512345678901234',
    });
  });

  it('gives no serial number for a failure or an empty sn', async () => {
    assert.equal(
      (await map({ ...report, status: 'Failed', sn: 'Trx gagal' })).product?.serialNumber,
      null,
    );
    assert.equal((await map({ ...report, status: 'Pending', sn: '' })).product?.serialNumber, null);
  });

  it('refuses a report without ref_id (400)', async () => {
    const fields: Record<string, string> = { ...report };
    delete fields.ref_id;
    await assert.rejects(map(fields), httpError(400, /ref_id/));
  });

  it('identifies the transaction by ref_id: pending and success are two events, repeats one', async () => {
    const pending = await map({ ...report, status: 'Pending', sn: '' });
    const success = await map(report);
    const again = await map({ ...report, status: 'SUCCESS' });
    assert.equal(transactionKeyOf(pending), '10327');
    assert.equal(transactionKeyOf(success), '10327');
    const id = (tx: typeof pending) =>
      eventIdFor('ppob', 'default', transactionKeyOf(tx), tx.status);
    assert.notEqual(id(pending), id(success));
    assert.equal(id(success), id(again));
  });

  it('acknowledges with 200 text/plain OK', () => {
    assert.deepEqual(provider.ack(), PPOB_ACK);
    assert.deepEqual(PPOB_ACK, { status: 200, contentType: 'text/plain', body: 'OK' });
  });
});

describe('PPOB protection configurations', () => {
  it('token only: any address with the right token; the token is needed', () => {
    const tokenOnly = new PpobProvider(topupConfig('ppob', { token: PPOB.token }));
    const verified = tokenOnly.authenticate(
      inboundReport('ppob', report, { token: PPOB.token, ip: '198.51.100.7' }),
    );
    assert.equal(verified.verification, 'URL token matched');
    assert.throws(
      () => tokenOnly.authenticate(inboundReport('ppob', report, { ip: '198.51.100.7' })),
      httpError(401, /PPOB callback token required/),
    );
    assert.throws(
      () => tokenOnly.authenticate(inboundReport('ppob', report, { token: 'x'.repeat(32) })),
      httpError(401, /PPOB callback token does not match/),
    );
  });

  it('allowlist only: the tokenless URL from an allowed address; a token it cannot check is refused', () => {
    const allowlistOnly = new PpobProvider(topupConfig('ppob', { allowed: '127.0.0.1,::1' }));
    assert.equal(
      allowlistOnly.authenticate(inboundReport('ppob', report, { ip: '::1' })).verification,
      'source ::1 allowed',
    );
    assert.throws(
      () => allowlistOnly.authenticate(inboundReport('ppob', report, { ip: '10.0.0.1' })),
      httpError(403, /10\.0\.0\.1 is not allowed/),
    );
    assert.throws(
      () => allowlistOnly.authenticate(inboundReport('ppob', report, { token: PPOB.token })),
      httpError(401, /no token is configured/),
    );
  });

  it('nothing configured: disabled (404 from the guard)', () => {
    assert.equal(new PpobProvider(topupConfig('ppob', null)).isEnabled(), false);
  });

  it('a repeated query key is refused (400)', () => {
    assert.throws(
      () =>
        provider.authenticate(
          inboundReport('ppob', { ...report, ref_id: ['1', '2'] }, { token: PPOB.token }),
        ),
      httpError(400, /query parameter ref_id must appear once/),
    );
  });
});
