import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import type { InboundCallback } from '../../src/ingest/callback-provider.js';
import { validateFields } from '../../src/common/validate-fields.js';
import {
  decryptS88payKey,
  encryptS88payKey,
  parseS88payPlaintext,
  s88payAesKey,
  s88payIv,
} from '../../src/providers/s88pay/s88pay.crypto.js';
import {
  S88payCallbackDto,
  s88payAmount,
  s88payStatus,
} from '../../src/providers/s88pay/s88pay.dto.js';
import { S88PAY_ACK } from '../../src/providers/s88pay/s88pay.facts.js';
import { S88payProvider } from '../../src/providers/s88pay/s88pay.provider.js';
import {
  S88PAY_DEMO,
  S88PAY_DEPOSIT_PLAINTEXT,
  S88PAY_DEPOSIT_SAMPLE,
} from '../../src/providers/s88pay/s88pay.samples.js';
import { S88PAY } from '../support/credentials.js';
import { s88payCallback, s88payEncrypt, s88payPayload } from '../support/s88pay.js';

// S88Pay's documentation test vector (PROVIDERS.md), for api_key myapikey / secret_key mysecretkey.
const VECTOR = {
  aesKeyHex: '8c4b51e4147fe781f3d00a947187dd3966b6de8819ac9e20a0890fd24923e5fd',
  iv: '2afe16a6d630d94c',
  plaintext:
    'currency_code=INR&merchant_code=SKU20230101012023&merchant_api_key=myapikey&transaction_code=TEST-DP-123' +
    '&transaction_timestamp=1677495605&payment_code=PAY01D&transaction_amount=1000&user_id=test01',
  base64:
    'QqqF5QD9NdtM1O5JCpySZXyFT0gmXvEgWUEgoW19xajeviLAAlwzdDJmD7sgE2laIp7iEt/1SzUpquHykjfQP2eTTQGyR3Jw60iVniAayGxB' +
    'OQRoPW9ln/T4DzQkZL1eqapgcum/yGKLErYJ0v1WedA2nYZ/d64vZISGh3eA2PqDGJdLZWYKbAP7uGHzMGBslmx8CcBCFbjrKvfA5VGam6LH' +
    'i1ZWTfv8eeHmlBv4CSI6pXzhb43UZ22uBQj/N8rc6oJQd7l14FK2A4sZhpUhZQ==',
};
const percentEncoded = (base64: string) =>
  base64.replace(/\//g, '%2F').replace(/=/g, '%3D').replace(/\+/g, '%2B');

function inbound(body: unknown, contentType = 'application/json'): InboundCallback {
  return {
    method: 'POST',
    path: '/callbacks/s88pay',
    headers: { 'content-type': contentType },
    query: {},
    params: {},
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    contentType,
    clientIp: '127.0.0.1',
    receivedAt: new Date('2025-11-21T05:05:12Z'),
  };
}

const provider = new S88payProvider(
  loadConfig({ S88PAY_API_KEY: S88PAY.apiKey, S88PAY_SECRET_KEY: S88PAY.secretKey }),
);

async function normalized(payload: Record<string, unknown>) {
  const verified = provider.authenticate(inbound(s88payCallback(payload)));
  return provider.normalize(
    await validateFields(S88payCallbackDto, verified.fields, 'S88Pay callback'),
    verified,
  );
}

describe('S88Pay decryption (documentation vector)', () => {
  it('derives the documented AES key and IV from myapikey / mysecretkey', () => {
    assert.equal(s88payAesKey('myapikey').toString('hex'), VECTOR.aesKeyHex);
    assert.equal(s88payIv('mysecretkey').toString('ascii'), VECTOR.iv);
  });

  it('decrypts the documented base64, plain and percent-encoded, to the documented plaintext', () => {
    assert.equal(decryptS88payKey(VECTOR.base64, S88PAY), VECTOR.plaintext);
    assert.ok(
      percentEncoded(VECTOR.base64).includes('%2F') &&
        percentEncoded(VECTOR.base64).endsWith('%3D%3D'),
    );
    assert.equal(decryptS88payKey(percentEncoded(VECTOR.base64), S88PAY), VECTOR.plaintext);
  });

  it('the gateway and the independent test encryptor both reproduce the vector', () => {
    assert.equal(encryptS88payKey(VECTOR.plaintext, S88PAY), percentEncoded(VECTOR.base64));
    assert.equal(s88payEncrypt(VECTOR.plaintext), percentEncoded(VECTOR.base64));
  });

  it('reads the vector plaintext as k=v fields', () => {
    assert.deepEqual(parseS88payPlaintext(VECTOR.plaintext), {
      currency_code: 'INR',
      merchant_code: 'SKU20230101012023',
      merchant_api_key: 'myapikey',
      transaction_code: 'TEST-DP-123',
      transaction_timestamp: '1677495605',
      payment_code: 'PAY01D',
      transaction_amount: '1000',
      user_id: 'test01',
    });
  });

  it('keeps + as a base64 digit in the key (never a space), encoded or not', () => {
    const raw = decodeURIComponent(S88PAY_DEPOSIT_SAMPLE.key);
    assert.ok(raw.includes('+'), 'the sample ciphertext has a + in its base64');
    assert.equal(decryptS88payKey(raw, S88PAY_DEMO), S88PAY_DEPOSIT_PLAINTEXT);
    assert.throws(
      () => decryptS88payKey(raw.replace(/\+/g, ' '), S88PAY_DEMO),
      /not percent-encoded base64/,
    );
  });

  it('the Swagger sample really decrypts for the demo credentials, with matching codes', () => {
    const fields = parseS88payPlaintext(decryptS88payKey(S88PAY_DEPOSIT_SAMPLE.key, S88PAY_DEMO));
    assert.equal(fields.transaction_code, S88PAY_DEPOSIT_SAMPLE.transaction_code);
    assert.equal(fields.transaction_no, S88PAY_DEPOSIT_SAMPLE.transaction_no);
    assert.equal(fields.transaction_status, 2);
    assert.doesNotThrow(() => provider.authenticate(inbound(S88PAY_DEPOSIT_SAMPLE)));
  });
});

describe('S88Pay plaintext', () => {
  it('k=v text: %XX is decoded but + stays a literal +', () => {
    assert.deepEqual(parseS88payPlaintext('transaction_code=A+1&note=top%20up&tz=%2B07%3A00'), {
      transaction_code: 'A+1',
      note: 'top up',
      tz: '+07:00',
    });
  });

  it('JSON object text is read as JSON', () => {
    assert.deepEqual(parseS88payPlaintext('{"transaction_code":"A","transaction_status":2}'), {
      transaction_code: 'A',
      transaction_status: 2,
    });
  });

  const refused: Array<[string, RegExp]> = [
    ['["TX-1"]', /into a well-formed payload/],
    ['42', /into a well-formed payload/],
    ['null', /into a well-formed payload/],
    ['hello world', /into a well-formed payload/],
    ['{"transaction_code":', /into a well-formed payload/],
    ['a=1&a=2', /into a well-formed payload/],
    ['=1', /into a well-formed payload/],
    ['a=%E0%A4%A', /into a well-formed payload/],
    ['', /into a well-formed payload/],
    // Tampering shows as a repeated field, a control character or a nested value.
    ['{"transaction_code":"A","transaction_code":"B"}', /into a well-formed payload/],
    ['{"transaction_code":"A\\u0000"}', /into a well-formed payload/],
    ['{"transaction_code":"A\u0001"}', /into a well-formed payload/],
    ['transaction_code=A%00', /into a well-formed payload/],
    ['{"transaction_code":{"a":1}}', /into a well-formed payload/],
    ['{"transaction_code":["A"]}', /into a well-formed payload/],
  ];
  for (const [text, message] of refused) {
    it(`refuses ${JSON.stringify(text)}`, () =>
      assert.throws(() => parseS88payPlaintext(text), message));
  }
});

describe('S88Pay facts', () => {
  it('maps every documented transaction_status, integer and string', () => {
    const table: Array<[unknown, string]> = [
      [1, 'pending'],
      ['1', 'pending'],
      ['pending', 'pending'],
      ['PENDING', 'pending'],
      [2, 'succeeded'],
      ['2', 'succeeded'],
      ['completed', 'succeeded'],
      ['success', 'succeeded'],
      ['Completed', 'succeeded'],
      [3, 'failed'],
      ['3', 'failed'],
      ['failed', 'failed'],
      [4, 'pending'],
      ['4', 'pending'],
    ];
    for (const [value, status] of table)
      assert.equal(s88payStatus(value), status, `status ${JSON.stringify(value)}`);
    for (const value of [0, 5, '7', 'done', '', null, undefined, true, 2.5]) {
      assert.equal(s88payStatus(value), null, `status ${JSON.stringify(value)} is unknown`);
    }
  });

  it('keeps amounts as decimal strings and refuses what is not one', () => {
    assert.equal(s88payAmount('3000.00'), '3000.00');
    assert.equal(s88payAmount(' 10.00 '), '10.00');
    assert.equal(s88payAmount(3000), '3000');
    assert.equal(s88payAmount(10000.1), '10000.1');
    for (const bad of ['3,000.00', '1e3', '-5', 'abc', '', 1e21, Number.NaN, null, {}]) {
      assert.equal(s88payAmount(bad), null, `amount ${String(bad)}`);
    }
  });

  it('acknowledges with 200 text/plain success', () => {
    assert.deepEqual(S88PAY_ACK, { status: 200, contentType: 'text/plain', body: 'success' });
  });
});

describe('S88payProvider without HTTP', () => {
  it('normalizes a JSON deposit and removes merchant_api_key', async () => {
    const payload = s88payPayload({
      transaction_amount: 3000,
      transaction_fee: '10.00',
      currency_code: 'bdt',
    });
    const tx = await normalized(payload);
    assert.equal(tx.status, 'succeeded');
    assert.equal(tx.providerStatus, '2');
    assert.equal(tx.amount, '3000');
    assert.equal(tx.fee, '10.00');
    assert.equal(tx.currency, 'BDT');
    assert.equal(tx.channel, 'PAY01D');
    assert.equal(tx.occurredAt?.toISOString(), '2025-11-21T05:05:12.000Z');
    const rest = { ...payload };
    delete rest.merchant_api_key;
    assert.deepEqual(tx.raw, rest);
  });

  it('without transaction_no inside, trusts none: the transaction is keyed by transaction_code', async () => {
    const payload = s88payPayload({ transaction_no: undefined });
    const verified = provider.authenticate(
      inbound(s88payCallback(payload, { beside: { transaction_no: 'DP-ANY' } })),
    );
    assert.match(
      verified.verification,
      /transaction_no beside key is not in the encrypted payload, so not trusted/,
    );
    const tx = provider.normalize(
      await validateFields(S88payCallbackDto, verified.fields, 'S88Pay'),
      verified,
    );
    assert.equal(tx.providerTransactionId, null);
    assert.equal(tx.merchantReference, payload.transaction_code);
  });

  it('uses merchant_code as the account, else default', () => {
    assert.equal(
      provider.authenticate(inbound(s88payCallback(s88payPayload()))).account,
      'SKU20230101012023',
    );
    assert.equal(
      provider.authenticate(inbound(s88payCallback(s88payPayload({ merchant_code: undefined }))))
        .account,
      'default',
    );
  });

  // Every refusal found by decrypting gets the same message (no padding oracle).
  const OPAQUE =
    /^S88Pay key is not a callback for the configured credentials and the transaction codes sent beside it$/;
  const forgeries: Array<[string, () => unknown, RegExp]> = [
    ['no key', () => ({ transaction_code: 'X' }), /S88Pay key is missing/],
    [
      'another api_key',
      () => s88payCallback(s88payPayload(), { credentials: { ...S88PAY, apiKey: 'other' } }),
      OPAQUE,
    ],
    [
      'another secret_key',
      () => s88payCallback(s88payPayload(), { credentials: { ...S88PAY, secretKey: 'other' } }),
      OPAQUE,
    ],
    ['bad padding', () => ({ key: s88payEncrypt('x'.repeat(32), S88PAY, { pad: false }) }), OPAQUE],
    [
      'a truncated ciphertext',
      () => ({ key: 'QqqF5QD9NdtM1O5J' }),
      /not a whole number of AES blocks/,
    ],
    ['garbage base64', () => ({ key: 'not*base64!' }), /not percent-encoded base64/],
    ['a malformed %-escape', () => ({ key: 'QqqF%2' }), /not percent-encoded base64/],
    [
      'a payload without transaction_code',
      () => s88payCallback(s88payPayload({ transaction_code: undefined })),
      OPAQUE,
    ],
    [
      'a transaction_code mismatch',
      () => s88payCallback(s88payPayload(), { beside: { transaction_code: 'ORD-OTHER' } }),
      OPAQUE,
    ],
    [
      'a transaction_no mismatch',
      () => s88payCallback(s88payPayload(), { beside: { transaction_no: 'DP-OTHER' } }),
      OPAQUE,
    ],
  ];
  for (const [what, body, message] of forgeries) {
    it(`refuses ${what} with 401`, () => {
      assert.throws(
        () => provider.authenticate(inbound(body())),
        (error: { getStatus(): number; message: string }) => {
          assert.equal(error.getStatus(), 401);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('refuses a form body with 415', () => {
    assert.throws(
      () =>
        provider.authenticate(
          inbound(s88payCallback(s88payPayload()), 'application/x-www-form-urlencoded'),
        ),
      /must be application\/json/,
    );
  });
});
