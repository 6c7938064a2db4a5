import assert from 'node:assert/strict';
import { createDecipheriv, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import { type SimulatedRequest, UnknownStatusError } from '../../src/sandbox/simulation.js';
import {
  SIMULATED_PROVIDERS,
  type SimulatedProvider,
  SIMULATORS,
  simulatorFor,
  UnknownProviderError,
} from '../../src/dev/simulators.js';
import type { EventStatus } from '../../src/events/normalized-transaction.js';
import { MCPAYMENT_STATUS } from '../../src/providers/mcpayment/mcpayment.facts.js';
import { NICEPAY_STATUS } from '../../src/providers/nicepay/nicepay.facts.js';
import { PPOB_STATUS } from '../../src/providers/ppob/ppob.facts.js';
import { S88PAY_STATUS } from '../../src/providers/s88pay/s88pay.facts.js';
import { SIDOPULSA_STATUS } from '../../src/providers/sidopulsa/sidopulsa.facts.js';
import { sleep } from '../support/broker.js';
import { NICEPAY, PPOB, PROVIDER_ENV, S88PAY, SIDOPULSA } from '../support/credentials.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentSignature } from '../support/mcpayment.js';
import { nicepayToken } from '../support/nicepay.js';

/** Each provider's status table (the facts), and its event domain. */
const TABLES: Record<SimulatedProvider, { domain: string; table: Record<string, EventStatus> }> = {
  nicepay: { domain: 'payment', table: NICEPAY_STATUS },
  mcpayment: { domain: 'payment', table: MCPAYMENT_STATUS },
  s88pay: { domain: 'payment', table: S88PAY_STATUS },
  sidopulsa: { domain: 'topup', table: SIDOPULSA_STATUS },
  ppob: { domain: 'topup', table: PPOB_STATUS },
};

/** Every table value (the provider's own vocabulary) and every normalized status it maps to. */
function statusesOf(provider: SimulatedProvider): Array<[input: string, expected: EventStatus]> {
  const { table } = TABLES[provider];
  const own = Object.entries(table);
  const normalized = [...new Set(Object.values(table))]
    .filter((s) => !own.some(([value]) => value.toLowerCase() === s))
    .map((s): [string, EventStatus] => [s, s]);
  return [...own, ...normalized];
}

let counter = 0;
const uniqueReference = (provider: string) =>
  `T-${provider}-${Date.now().toString(36)}-${(counter += 1)}`.toUpperCase();

function send(baseUrl: string, request: SimulatedRequest) {
  return fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
}

describe('provider simulators (unit)', () => {
  const providers = loadConfig({ NODE_ENV: 'test', ...PROVIDER_ENV }).providers;

  it('the registry names the five providers', () => {
    assert.deepEqual([...SIMULATED_PROVIDERS].sort(), [
      'mcpayment',
      'nicepay',
      'ppob',
      's88pay',
      'sidopulsa',
    ]);
    assert.throws(() => simulatorFor('paypal'), UnknownProviderError);
    assert.throws(() => simulatorFor('toString'), UnknownProviderError);
    assert.throws(() => simulatorFor('__proto__'), UnknownProviderError);
  });

  it('an unknown status is refused with a message listing the accepted ones', () => {
    const cases: Array<[SimulatedProvider, string[]]> = [
      ['nicepay', ['0', '1', 'succeeded', 'reversed']],
      ['mcpayment', ['PAID', 'VOID', 'EXPIRED', 'succeeded', 'cancelled', 'any case']],
      ['s88pay', ['1', '4', 'completed', 'succeeded']],
      ['sidopulsa', ['1', '2', 'succeeded', 'failed']],
      ['ppob', ['Pending', 'Success', 'Failed', 'succeeded']],
    ];
    for (const [provider, listed] of cases) {
      assert.throws(
        () => SIMULATORS[provider].simulate(providers, 'bogus'),
        (error: unknown) => {
          assert.ok(error instanceof UnknownStatusError);
          assert.match(error.message, /bogus/);
          for (const status of listed)
            assert.ok(error.message.includes(status), `${provider}: ${status} not listed`);
          return true;
        },
      );
    }
  });

  it('provider values are accepted in any case where the provider is case-insensitive', () => {
    assert.equal(SIMULATORS.mcpayment.simulate(providers, 'paid').providerStatus, 'PAID');
    assert.equal(SIMULATORS.ppob.simulate(providers, 'SUCCESS').providerStatus, 'Success');
    assert.equal(SIMULATORS.ppob.simulate(providers, 'succeeded').providerStatus, 'Success');
    assert.equal(SIMULATORS.s88pay.simulate(providers, 'Completed').providerStatus, 'completed');
    assert.equal(SIMULATORS.nicepay.simulate(providers, 'reversed').providerStatus, '1');
  });

  it("NICEPAY: tXid is 30 letters or digits starting with the iMid; the token is NICEPAY's formula", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const request = SIMULATORS.nicepay.simulate(providers, 'succeeded');
      const fields = Object.fromEntries(new URLSearchParams(request.body));
      assert.match(fields.tXid, /^[A-Za-z0-9]{30}$/);
      assert.ok(fields.tXid.startsWith(`${NICEPAY.merchants[0].iMid}02`));
      assert.ok(!seen.has(fields.tXid), 'tXid repeated');
      seen.add(fields.tXid);
      const { iMid, merchantKey } = NICEPAY.merchants[0];
      assert.equal(fields.merchantToken, nicepayToken(iMid, fields.tXid, fields.amt, merchantKey));
    }
    const request = SIMULATORS.nicepay.simulate(providers, '0', 'ORD-1');
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(new URLSearchParams(request.body).get('referenceNo'), 'ORD-1');
  });

  it("MCPayment: transaction_id is a fresh UUID; the signature is MCPayment's formula", () => {
    const a = JSON.parse(SIMULATORS.mcpayment.simulate(providers, 'PAID').body!);
    const request = SIMULATORS.mcpayment.simulate(providers, 'REFUNDED', 'ORD-2');
    const b = JSON.parse(request.body!);
    assert.match(
      b.transaction_id,
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    assert.notEqual(a.transaction_id, b.transaction_id);
    assert.notEqual(a.external_id, b.external_id);
    assert.equal(b.order_id, 'ORD-2');
    assert.equal(request.headers['mcp-signature'], mcpaymentSignature(b));
    assert.ok(Array.isArray(b.refund_history));
    const expired = JSON.parse(SIMULATORS.mcpayment.simulate(providers, 'EXPIRED').body!);
    assert.equal(expired.payment_history, undefined, 'no payment history before payment');
  });

  it('MCPayment with a sub-merchant id signs with it', () => {
    const sub = loadConfig({
      NODE_ENV: 'test',
      ...PROVIDER_ENV,
      MCPAYMENT_SUB_MERCHANT_ID: 'SUB-7',
    }).providers;
    const request = SIMULATORS.mcpayment.simulate(sub, 'PAID');
    assert.equal(
      request.headers['mcp-signature'],
      mcpaymentSignature(JSON.parse(request.body!), undefined, 'SUB-7'),
    );
  });

  it("S88Pay: key is S88Pay's encryption of the payload; transaction_no and code are sent beside it", () => {
    const a = JSON.parse(SIMULATORS.s88pay.simulate(providers, '2').body!);
    const b = JSON.parse(SIMULATORS.s88pay.simulate(providers, '2', 'ORD-3').body!);
    assert.notEqual(a.transaction_no, b.transaction_no);
    assert.match(b.transaction_no, /^DP-\d{8}-\d+$/);
    assert.equal(b.transaction_code, 'ORD-3');
    assert.equal(typeof b.key, 'string');
    assert.notEqual(a.key, b.key);
  });

  it('S88Pay: key decrypts (independently of the gateway) to the payload S88Pay sends', () => {
    const request = SIMULATORS.s88pay.simulate(providers, '2', 'ORD-4');
    const body = JSON.parse(request.body!);
    const decipher = createDecipheriv(
      'aes-256-cbc',
      createHash('sha256').update(S88PAY.apiKey).digest(),
      Buffer.from(
        createHash('sha256').update(S88PAY.secretKey).digest('hex').slice(0, 16),
        'ascii',
      ),
    );
    const ciphertext = Buffer.from(decodeURIComponent(body.key), 'base64');
    const payload = JSON.parse(
      Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8'),
    );
    assert.equal(payload.transaction_code, 'ORD-4');
    assert.equal(payload.transaction_no, body.transaction_no);
    assert.equal(payload.transaction_status, 2);
    assert.equal(payload.currency_code, 'IDR');
    assert.equal(payload.merchant_api_key, S88PAY.apiKey);
    assert.equal(SIMULATORS.s88pay.simulate(providers, 'completed').providerStatus, 'completed');
  });

  it("each simulator accepts every value of its provider's status table", () => {
    for (const [provider, { table }] of Object.entries(TABLES)) {
      const accepted = SIMULATORS[provider as SimulatedProvider].statuses.map((s) =>
        s.toLowerCase(),
      );
      for (const value of [...Object.keys(table), ...Object.values(table)]) {
        assert.ok(accepted.includes(value.toLowerCase()), `${provider} does not list ${value}`);
      }
    }
  });

  it('Sidopulsa / PPOB: the configured URL token is in the path, masked in displayPath', () => {
    const sido = SIMULATORS.sidopulsa.simulate(providers, '2', 'C-1');
    assert.equal(sido.method, 'GET');
    assert.ok(sido.path.startsWith(`/callbacks/sidopulsa/${SIDOPULSA.token}?`));
    assert.ok(!sido.displayPath.includes(SIDOPULSA.token));
    assert.ok(sido.displayPath.startsWith('/callbacks/sidopulsa/…?'));
    const query = new URL(sido.path, 'http://x').searchParams;
    assert.equal(query.get('clientid'), 'C-1');
    assert.equal(query.get('statuscode'), '2');
    assert.equal(query.get('sn'), 'Trx gagal');
    const ppob = SIMULATORS.ppob.simulate(providers, 'Pending', 'R-1');
    assert.ok(ppob.path.startsWith(`/callbacks/ppob/${PPOB.token}?`));
    assert.ok(!ppob.displayPath.includes(PPOB.token));
    assert.equal(new URL(ppob.path, 'http://x').searchParams.get('ref_id'), 'R-1');
  });

  it('Sidopulsa / PPOB without a token: the tokenless URL', () => {
    const allowlistOnly = loadConfig({
      NODE_ENV: 'test',
      SIDOPULSA_ALLOWED_IPS: '127.0.0.1',
      PPOB_ALLOWED_IPS: '127.0.0.1',
    }).providers;
    assert.ok(
      SIMULATORS.sidopulsa.simulate(allowlistOnly, '1').path.startsWith('/callbacks/sidopulsa?'),
    );
    assert.ok(
      SIMULATORS.ppob.simulate(allowlistOnly, 'Success').path.startsWith('/callbacks/ppob?'),
    );
    assert.equal(SIMULATORS.nicepay.configured(allowlistOnly), false);
  });

  it('the default reference is unique per call', () => {
    const refs = new Set(
      Array.from({ length: 50 }, () => SIMULATORS.ppob.simulate(providers, 'Success').reference),
    );
    assert.equal(refs.size, 50);
  });
});

describe('every simulated status is accepted by a real gateway and becomes its event (PostgreSQL)', () => {
  let bed: TestBed;
  before(async () => (bed = await createTestBed('postgres')));
  after(() => bed.teardown());

  async function eventFor(subject: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = bed.tap.bodies().findIndex((body) => body.subject === subject);
      if (index >= 0) return { message: bed.tap.messages[index], body: bed.tap.bodies()[index] };
      if (Date.now() > deadline) throw new Error(`No event with subject ${subject}`);
      await sleep(25);
    }
  }

  for (const provider of Object.keys(TABLES) as Array<SimulatedProvider>) {
    for (const [status, normalized] of statusesOf(provider)) {
      const expected = `${TABLES[provider].domain}.${normalized}.${provider}`;
      it(`${provider} --status ${status} → ${expected}`, async () => {
        const reference = uniqueReference(provider);
        const request = SIMULATORS[provider].simulate(
          bed.gateway.config.providers,
          status,
          reference,
        );
        assert.equal(request.routingKey, expected);
        const res = await send(bed.gateway.url, request);
        const text = await res.text();
        assert.ok(res.status >= 200 && res.status < 300, `${res.status}: ${text}`);
        const { message, body } = await eventFor(reference);
        assert.equal(message.fields.routingKey, expected);
        assert.equal(body.subject, reference);
        assert.equal(body.data.status, normalized);
        assert.equal(
          String(body.data.providerStatus).toLowerCase(),
          String(request.providerStatus).toLowerCase(),
        );
      });
    }
  }
});
