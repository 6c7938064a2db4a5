import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type GatewayConfig, loadConfig } from '../../src/config/gateway-config.js';
import type { InboundCallback } from '../../src/ingest/callback-provider.js';
import type { McpaymentSandbox } from '../../src/providers/mcpayment/mcpayment.sandbox.js';
import { McpaymentStatusApi } from '../../src/providers/mcpayment/mcpayment.status-api.js';
import type { NicepaySandbox } from '../../src/providers/nicepay/nicepay.sandbox.js';
import {
  nicepayTimeStamp,
  NicepayStatusApi,
} from '../../src/providers/nicepay/nicepay.status-api.js';
import { s88payAesKey } from '../../src/providers/s88pay/s88pay.crypto.js';
import { S88payProvider } from '../../src/providers/s88pay/s88pay.provider.js';
import {
  S88paySandbox,
  s88payStatusRequestFields,
} from '../../src/providers/s88pay/s88pay.sandbox.js';
import {
  parseS88payStatus,
  S88payStatusApi,
} from '../../src/providers/s88pay/s88pay.status-api.js';
import { type RunningSandbox, sandboxProviders, startSandbox } from '../../src/dev/sandbox.js';
import type { StatusQuery } from '../../src/verification/status-api.js';
import { MCPAYMENT_API, PROVIDER_ENV, S88PAY_API } from '../support/credentials.js';
import { inquiryEnv } from '../support/sandbox.js';
import { s88payCallback, s88payEncrypt, s88payPayload } from '../support/s88pay.js';

// Keys as providers issue them: opaque strings that happen to hold %3D, +, / and =. Used exactly
// as issued everywhere (PROVIDERS.md); decoding one changes the key.
const S88PAY_KEYS = { apiKey: 'ab%3Dc+d/e==', secretKey: 'se%2Fcr+et/=' };
const NICEPAY_KEY = 'nk%3D1+2/3==';
const MCPAYMENT_KEYS = { hashKey: 'hk%3Dx+y/z=', secretUnboundId: 'su%3D+/==' };

/** What a server that "helpfully" form-decodes would turn the key into. */
const formDecoded = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const KEY_ENV: Record<string, string> = {
  S88PAY_API_KEY: S88PAY_KEYS.apiKey,
  S88PAY_SECRET_KEY: S88PAY_KEYS.secretKey,
  NICEPAY_MERCHANT_KEY: NICEPAY_KEY,
  MCPAYMENT_HASH_KEY: MCPAYMENT_KEYS.hashKey,
  MCPAYMENT_SECRET_UNBOUND_ID: MCPAYMENT_KEYS.secretUnboundId,
};

function configAt(url: string, overrides: Record<string, string> = {}): GatewayConfig {
  return loadConfig({ ...PROVIDER_ENV, ...inquiryEnv(url), ...KEY_ENV, ...overrides });
}

function inbound(body: unknown): InboundCallback {
  return {
    method: 'POST',
    path: '/callbacks/s88pay',
    headers: { 'content-type': 'application/json' },
    query: {},
    params: {},
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    contentType: 'application/json',
    clientIp: '127.0.0.1',
    receivedAt: new Date(),
  };
}

const baseQuery: Omit<StatusQuery, 'account' | 'providerTransactionId' | 'merchantReference'> = {
  amount: null,
  currency: 'IDR',
  paymentMethod: null,
  channel: null,
  raw: {},
};

describe('keys holding %3D, +, / and = are opaque: client and sandbox follow the documentation', () => {
  let sandbox: RunningSandbox;
  let config: GatewayConfig;
  before(async () => {
    sandbox = await startSandbox({ providers: sandboxProviders(configAt('http://127.0.0.1:9')) });
    config = configAt(sandbox.url);
  });
  after(() => sandbox.close());

  describe('S88Pay', () => {
    const statusUrl = () =>
      `${sandbox.url}/api/v1/${encodeURIComponent(S88PAY_API.merchantCode)}/transactions/status`;
    /** A status request built here from the documentation: `key=` of the plaintext as given. */
    const ask = async (plaintext: string) => {
      const response = await fetch(statusUrl(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `key=${s88payEncrypt(plaintext, S88PAY_KEYS)}`,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it('(a) a callback decrypts with AES key = SHA-256 of the api key exactly as issued', () => {
      assert.deepEqual(
        s88payAesKey(S88PAY_KEYS.apiKey),
        createHash('sha256').update(S88PAY_KEYS.apiKey).digest(),
      );
      assert.notDeepEqual(
        s88payAesKey(S88PAY_KEYS.apiKey),
        s88payAesKey(decodeURIComponent(S88PAY_KEYS.apiKey)),
      );
      const provider = new S88payProvider(config);
      for (const format of ['json', 'form'] as const) {
        const payload = s88payPayload({ merchant_api_key: S88PAY_KEYS.apiKey });
        const verified = provider.authenticate(
          inbound(s88payCallback(payload, { format, credentials: S88PAY_KEYS })),
        );
        assert.equal(verified.fields.transaction_code, payload.transaction_code, format);
      }
      // Encrypted with the percent-decoded key, it is not S88Pay's callback for this merchant.
      const decoded = { ...S88PAY_KEYS, apiKey: decodeURIComponent(S88PAY_KEYS.apiKey) };
      assert.throws(
        () =>
          provider.authenticate(inbound(s88payCallback(s88payPayload(), { credentials: decoded }))),
        (e: Error & { getStatus?: () => number }) => e.getStatus?.() === 401,
      );
    });

    it('(b) S88payStatusApi asks the sandbox over HTTP with the key as issued: found', async () => {
      const s88pay = sandbox.provider<S88paySandbox>('s88pay');
      const held = await s88pay.create({ status: 'completed', send: false });
      const answer = await new S88payStatusApi(config).inquire({
        ...baseQuery,
        account: S88PAY_API.merchantCode,
        providerTransactionId: null,
        merchantReference: held.key,
      });
      assert.ok(answer.kind === 'found', JSON.stringify(answer));
      assert.equal(answer.report.status, 'succeeded');
      assert.equal(answer.report.merchantReference, held.key);
      assert.equal(s88pay.get(held.key)?.inquiries, 1);
    });

    it('(c) the sandbox refuses the percent-decoded key, and a + turned into a space', async () => {
      const s88pay = sandbox.provider<S88paySandbox>('s88pay');
      const held = await s88pay.create({ status: 'completed', send: false });
      const exact = await ask(
        `merchant_api_key=${S88PAY_KEYS.apiKey}&transaction_code=${held.key}`,
      );
      assert.equal(exact.status, 200);
      assert.equal(exact.body.success, true, JSON.stringify(exact.body));
      const json = await ask(
        JSON.stringify({ merchant_api_key: S88PAY_KEYS.apiKey, transaction_code: held.key }),
      );
      assert.equal(json.body.success, true, 'the JSON parameters object of the docs');

      for (const variant of [
        decodeURIComponent(S88PAY_KEYS.apiKey), // ab=c+d/e==
        formDecoded(S88PAY_KEYS.apiKey), // ab=c d/e==
        S88PAY_KEYS.apiKey.replace('+', ' '),
        encodeURIComponent(S88PAY_KEYS.apiKey),
      ]) {
        const refused = await ask(`merchant_api_key=${variant}&transaction_code=${held.key}`);
        assert.equal(refused.status, 200, 'S88Pay refuses credentials with HTTP 200');
        assert.equal(refused.body.success, false);
        assert.equal(refused.body.code, 115, `${variant}: ${JSON.stringify(refused.body)}`);
        const parsed = parseS88payStatus(refused.status, refused.body, held.key);
        assert.equal(parsed.kind, 'refused', variant);
      }
      assert.equal(s88pay.get(held.key)?.inquiries, 2, 'refused requests reach no transaction');
    });

    it('reads the api key from the plaintext on & and its first =, as it stands', () => {
      assert.deepEqual(
        s88payStatusRequestFields('merchant_api_key=ab%3Dc+d/e==&transaction_code=ORD%2D1+x'),
        { merchant_api_key: 'ab%3Dc+d/e==', transaction_code: 'ORD-1+x' },
      );
      assert.equal(s88payStatusRequestFields('merchant_api_key=a&merchant_api_key=b'), null);
      assert.equal(s88payStatusRequestFields('nonsense'), null);
    });
  });

  describe('NICEPAY', () => {
    it('merchantToken over the key as issued is accepted; over the decoded key it is 9010', async () => {
      const nicepay = sandbox.provider<NicepaySandbox>('nicepay');
      const held = await nicepay.create({ status: 'succeeded', send: false });
      const { fields, iMid } = held.transaction;
      const answer = await new NicepayStatusApi(config).inquire({
        ...baseQuery,
        account: iMid,
        providerTransactionId: fields.tXid,
        merchantReference: fields.referenceNo,
        raw: { amt: fields.amt },
      });
      assert.ok(answer.kind === 'found', JSON.stringify(answer));

      // Requests written here from NICEPAY's documented formula, not with the client's code.
      const ask = async (merchantKey: string) => {
        const timeStamp = nicepayTimeStamp();
        const response = await fetch(`${sandbox.url}/nicepay/direct/v2/inquiry`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            timeStamp,
            tXid: fields.tXid,
            iMid,
            referenceNo: fields.referenceNo,
            amt: fields.amt,
            merchantToken: sha256(timeStamp + iMid + fields.referenceNo + fields.amt + merchantKey),
          }),
        });
        return ((await response.json()) as { resultCd: string }).resultCd;
      };
      assert.equal(await ask(NICEPAY_KEY), '0000');
      assert.equal(await ask(decodeURIComponent(NICEPAY_KEY)), '9010');
      assert.equal(await ask(formDecoded(NICEPAY_KEY)), '9010');
    });
  });

  describe('MCPayment', () => {
    it('Basic auth and x-req-signature over the keys as issued; decoded keys are 401', async () => {
      const mcpayment = sandbox.provider<McpaymentSandbox>('mcpayment');
      const held = await mcpayment.create({ status: 'PAID', send: false });
      const tx = held.transaction;
      const answer = await new McpaymentStatusApi(config).inquire({
        ...baseQuery,
        account: 'default',
        providerTransactionId: String(tx.transaction_id),
        merchantReference: String(tx.order_id),
        raw: tx,
      });
      assert.ok(answer.kind === 'found', JSON.stringify(answer));

      // Requests written here from the documentation: Basic base64(merchant_id:secret_unbound_id),
      // x-req-signature = SHA-256(hash_key + external_id + order_id), x-version v3.
      const ask = async (secretUnboundId: string, hashKey: string) => {
        const response = await fetch(`${sandbox.url}/va/inquiry`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`${MCPAYMENT_API.merchantId}:${secretUnboundId}`).toString('base64')}`,
            'x-req-signature': sha256(hashKey + String(tx.external_id) + String(tx.order_id)),
            'x-version': 'v3',
          },
          body: JSON.stringify({
            external_id: tx.external_id,
            order_id: tx.order_id,
            transaction_id: tx.transaction_id,
            payment_method: 'BANK_TRANSFER',
            payment_channel: tx.payment_channel,
          }),
        });
        await response.arrayBuffer();
        return response.status;
      };
      const { hashKey, secretUnboundId } = MCPAYMENT_KEYS;
      assert.equal(await ask(secretUnboundId, hashKey), 200);
      assert.equal(await ask(decodeURIComponent(secretUnboundId), hashKey), 401);
      assert.equal(await ask(formDecoded(secretUnboundId), hashKey), 401);
      assert.equal(await ask(secretUnboundId, decodeURIComponent(hashKey)), 401);
      assert.equal(await ask(secretUnboundId, formDecoded(hashKey)), 401);
    });
  });
});
