import assert from 'node:assert/strict';
import { exec } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import { MCPAYMENT, NICEPAY, PPOB, S88PAY, SIDOPULSA } from '../support/credentials.js';
import {
  createTestBed,
  type RunningGateway,
  startGateway,
  type TestBed,
} from '../support/gateway.js';

const PROVIDERS = ['nicepay', 'mcpayment', 's88pay', 'sidopulsa', 'ppob'] as const;

/** Every configured secret except the URL tokens (part of the callback URL by design). */
const SECRETS = [
  ...NICEPAY.merchants.map((m) => m.merchantKey),
  S88PAY.apiKey,
  S88PAY.secretKey,
  MCPAYMENT.hashKey,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response | Promise<Response>): Promise<any> => (await res).json();

function sign(baseUrl: string, provider: string, body: unknown) {
  return fetch(`${baseUrl}/dev/sign/${provider}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function waitForSubject(bed: TestBed, subject: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = bed.tap.bodies().findIndex((b) => b.subject === subject);
    if (index >= 0) return bed.tap.messages[index];
    if (Date.now() > deadline) throw new Error(`No event with subject ${subject}`);
    await sleep(25);
  }
}

describe('POST /dev/sign/:provider with DEV_TOOLS_ENABLED off (the default)', () => {
  let bed: TestBed;
  before(async () => (bed = await createTestBed('postgres')));
  after(() => bed.teardown());

  it('answers 404 for every provider, and Swagger does not show it', async () => {
    assert.equal(bed.gateway.config.devTools.enabled, false);
    for (const provider of PROVIDERS) {
      const res = await sign(bed.gateway.url, provider, { status: 'succeeded' });
      assert.equal(res.status, 404);
      const text = await res.text();
      for (const secret of SECRETS) assert.ok(!text.includes(secret));
    }
    const doc = await json(fetch(`${bed.gateway.url}/docs-json`));
    assert.equal(doc.paths['/dev/sign/{provider}'], undefined);
  });
});

describe('POST /dev/sign/:provider with DEV_TOOLS_ENABLED=true', () => {
  let bed: TestBed;
  before(async () => (bed = await createTestBed('postgres', { DEV_TOOLS_ENABLED: 'true' })));
  after(() => bed.teardown());

  for (const provider of PROVIDERS) {
    it(`${provider}: the returned request, sent as-is, is accepted and becomes the event; no secret in it`, async () => {
      const reference = `DEV-${provider}-${Date.now().toString(36)}`.toUpperCase();
      const res = await sign(bed.gateway.url, provider, { status: 'succeeded', reference });
      assert.equal(res.status, 200);
      const text = await res.text();
      for (const secret of SECRETS) {
        assert.ok(!text.includes(secret), `the response contains a configured secret`);
        assert.ok(
          !text.includes(encodeURIComponent(secret)),
          `the response contains a configured secret`,
        );
      }
      const signed = JSON.parse(text);
      assert.deepEqual(
        Object.keys(signed).sort(),
        [
          'body',
          'curl',
          'headers',
          'method',
          'providerStatus',
          'reference',
          'routingKey',
          'url',
        ].filter((k) => k !== 'body' || signed.method !== 'GET'),
      );
      assert.equal(signed.reference, reference);
      assert.match(signed.curl, /^curl -i /);
      const domain = provider === 'sidopulsa' || provider === 'ppob' ? 'topup' : 'payment';
      assert.equal(signed.routingKey, `${domain}.succeeded.${provider}`);

      const sent = await fetch(`${bed.gateway.url}${signed.url}`, {
        method: signed.method,
        headers: signed.headers,
        body: signed.body,
      });
      assert.ok(sent.status >= 200 && sent.status < 300, `${sent.status} ${await sent.text()}`);
      const message = await waitForSubject(bed, reference);
      assert.equal(message.fields.routingKey, `${domain}.succeeded.${provider}`);
    });
  }

  it('the URL tokens are in the returned url of Sidopulsa and PPOB (by design, dev only)', async () => {
    const sido = await json(sign(bed.gateway.url, 'sidopulsa', { status: '2' }));
    assert.ok(sido.url.startsWith(`/callbacks/sidopulsa/${SIDOPULSA.token}?`));
    const ppob = await json(sign(bed.gateway.url, 'ppob', { status: 'Failed' }));
    assert.ok(ppob.url.startsWith(`/callbacks/ppob/${PPOB.token}?`));
  });

  it('the curl command works as pasted', async () => {
    const signed = await json(sign(bed.gateway.url, 'mcpayment', { status: 'EXPIRED' }));
    assert.ok(signed.curl.includes(`${bed.gateway.url}/callbacks/mcpayment`));
    const { stdout } = await promisify(exec)(`${signed.curl} -s`);
    assert.match(stdout, /^HTTP\/1\.1 200/);
    const message = await waitForSubject(bed, signed.reference);
    assert.equal(message.fields.routingKey, 'payment.expired.mcpayment');
  });

  it('unknown provider → 404; unknown or missing status → 400 listing the accepted ones', async () => {
    for (const provider of ['paypal', 'toString', '__proto__']) {
      const res = await sign(bed.gateway.url, provider, { status: 'succeeded' });
      assert.equal(res.status, 404, provider);
    }
    const bad = await sign(bed.gateway.url, 'nicepay', { status: 'paid' });
    assert.equal(bad.status, 400);
    const error = await json(bad);
    assert.match(error.message, /"paid"/);
    assert.match(error.message, /0, 1, succeeded, reversed/);
    assert.equal((await sign(bed.gateway.url, 'ppob', {})).status, 400);
    assert.equal((await sign(bed.gateway.url, 'ppob', { status: 42 })).status, 400);
    assert.equal(
      (await sign(bed.gateway.url, 'ppob', { status: 'Success', reference: '' })).status,
      400,
    );
  });

  it('is documented in Swagger under "Developer tools"', async () => {
    const doc = await json(fetch(`${bed.gateway.url}/docs-json`));
    const operation = doc.paths['/dev/sign/{provider}']?.post;
    assert.ok(operation, 'POST /dev/sign/{provider} is not in the document');
    assert.deepEqual(operation.tags, ['Developer tools']);
    assert.match(operation.description, /URL token/);
    assert.ok(operation.requestBody.content['application/json'].examples);
  });

  describe('a provider that is not configured', () => {
    let gateway: RunningGateway;
    before(async () => {
      gateway = await startGateway({
        ...bed.env,
        DEV_TOOLS_ENABLED: 'true',
        MCPAYMENT_HASH_KEY: '',
      });
    });
    after(() => gateway.close());

    it('→ 404', async () => {
      assert.equal(gateway.config.providers.mcpayment, null);
      const res = await sign(gateway.url, 'mcpayment', { status: 'PAID' });
      assert.equal(res.status, 404);
      assert.match((await json(res)).message, /not configured/);
      assert.equal((await sign(gateway.url, 'nicepay', { status: '0' })).status, 200);
    });
  });
});
