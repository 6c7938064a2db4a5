import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import { problemsOf } from '../support/config.js';

const NICEPAY = { NICEPAY_IMID: 'IONPAYTEST', NICEPAY_MERCHANT_KEY: 'k' };
const MCPAYMENT = { MCPAYMENT_HASH_KEY: 'HASHKEY123' };
const S88PAY = { S88PAY_API_KEY: 'a', S88PAY_SECRET_KEY: 'b' };

describe('verification settings: secure defaults', () => {
  it('NICEPAY is verified by default, against its production host', () => {
    const config = loadConfig(NICEPAY);
    assert.deepEqual(config.providers.nicepay?.inquiry, { apiUrl: 'https://www.nicepay.co.id' });
    const local = loadConfig({ ...NICEPAY, NICEPAY_API_URL: 'http://localhost:4010/' });
    assert.equal(local.providers.nicepay?.inquiry?.apiUrl, 'http://localhost:4010');
    assert.equal(
      loadConfig({ ...NICEPAY, NICEPAY_VERIFY: 'off' }).providers.nicepay?.inquiry,
      null,
    );
  });

  it('MCPayment without inquiry credentials stops start-up, naming them and the =off escape', () => {
    const problems = problemsOf(MCPAYMENT).join('\n');
    assert.match(problems, /MCPAYMENT_MERCHANT_ID and MCPAYMENT_SECRET_UNBOUND_ID must be set/);
    assert.match(problems, /MCPAYMENT_VERIFY=off/);
    assert.match(
      problemsOf({ ...MCPAYMENT, MCPAYMENT_MERCHANT_ID: 'm' }).join(),
      /MCPAYMENT_SECRET_UNBOUND_ID must be set/,
    );
    const config = loadConfig({
      ...MCPAYMENT,
      MCPAYMENT_MERCHANT_ID: 'm',
      MCPAYMENT_SECRET_UNBOUND_ID: 's',
    });
    assert.deepEqual(config.providers.mcpayment?.inquiry, { apiUrl: 'https://api.ifortepay.id' });
    assert.equal(
      loadConfig({ ...MCPAYMENT, MCPAYMENT_VERIFY: 'off' }).providers.mcpayment?.inquiry,
      null,
    );
  });

  it('S88Pay is verified by default once its merchant code is set; without the API URL it does not start', () => {
    assert.equal(loadConfig(S88PAY).providers.s88pay?.inquiry, null);
    const config = loadConfig({
      ...S88PAY,
      S88PAY_MERCHANT_CODE: 'SKU1',
      S88PAY_API_URL: 'https://s88pay.example/',
    });
    assert.deepEqual(config.providers.s88pay?.inquiry, { apiUrl: 'https://s88pay.example' });
    const extras: Array<Record<string, string>> = [
      { S88PAY_MERCHANT_CODE: 'SKU1' },
      { S88PAY_VERIFY: 'inquiry' },
    ];
    for (const extra of extras) {
      const problems = problemsOf({ ...S88PAY, ...extra });
      assert.ok(
        problems.some((p) => /S88PAY_API_URL must be set/.test(p) && /S88PAY_VERIFY=off/.test(p)),
        JSON.stringify(problems),
      );
    }
    assert.ok(
      problemsOf({
        ...S88PAY,
        S88PAY_VERIFY: 'inquiry',
        S88PAY_API_URL: 'https://s88pay.example',
      }).some((p) => /needs merchantCode/.test(p)),
      'asked for explicitly, it needs a merchant code',
    );
    assert.equal(
      loadConfig({ ...S88PAY, S88PAY_MERCHANT_CODE: 'SKU1', S88PAY_VERIFY: 'off' }).providers.s88pay
        ?.inquiry,
      null,
    );
  });

  it('names bad values and refuses the embedded sandbox in production', () => {
    const problems = problemsOf({
      NICEPAY_VERIFY: 'maybe',
      NICEPAY_API_URL: 'ftp://x',
      VERIFY_RETRY_MAX_SECONDS: '0',
      RECONCILE_AFTER_SECONDS: 'soon',
    });
    for (const name of [
      'NICEPAY_VERIFY',
      'NICEPAY_API_URL',
      'VERIFY_RETRY_MAX_SECONDS',
      'RECONCILE_AFTER_SECONDS',
    ])
      assert.ok(
        problems.some((p) => p.startsWith(name)),
        `${name} in ${JSON.stringify(problems)}`,
      );
    assert.match(
      problemsOf({ NODE_ENV: 'production', SANDBOX_EMBEDDED: 'true' }).join(),
      /SANDBOX_EMBEDDED must not be true when NODE_ENV is production/,
    );
  });

  it('defaults: retry cap 30 s, reconcile after 900 s, up to 72 h, every 60 s', () => {
    const { verification } = loadConfig({});
    assert.equal(verification.retryMaxSeconds, 30);
    assert.deepEqual(verification.reconcile, {
      afterSeconds: 900,
      maxAgeHours: 72,
      intervalSeconds: 60,
    });
  });
});
