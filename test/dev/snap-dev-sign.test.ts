import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import type { TestBed } from '../support/gateway.js';
import { snapDemoBed, type SnapDemoBed } from '../support/snap-demo.js';

/**
 * `POST /dev/sign/snap`: a SNAP notification of an account and service signed for this gateway,
 * which, sent as returned, becomes one event — for every shipped profile of the demo accounts.
 */

const PROFILES = ['nicepay-snap', 'ifortepay-snap', 'doku-snap', 'midtrans-snap'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe('POST /dev/sign/snap with the developer tools on', () => {
  let demo: SnapDemoBed;
  let bed: TestBed;
  let demoText: string;

  before(async () => {
    demo = await snapDemoBed('sqlite', { DEV_TOOLS_ENABLED: 'true' });
    ({ bed, demoText } = demo);
  });
  after(() => demo?.teardown());

  const sign = async (body: unknown) => {
    const response = await fetch(`${bed.gateway.url}/dev/sign/snap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };

  async function eventOf(subject: string) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = bed.tap.bodies().find((body) => body.subject === subject);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`No event with subject ${subject}`);
      await sleep(25);
    }
  }

  for (const account of PROFILES) {
    it(`${account}: the returned request, sent as is, is acknowledged and becomes one event`, async () => {
      const reference = `SIGN-${account}-${Date.now()}`.toUpperCase();
      const { status, text } = await sign({ status: 'succeeded', account, reference });
      assert.equal(status, 200, text);
      const signed = JSON.parse(text) as Json;
      assert.equal(signed.url, `/callbacks/snap/${account}/v1.0/transfer-va/payment`);
      assert.equal(signed.routingKey, 'payment.succeeded.snap');
      assert.match(signed.curl, /^curl -i -X POST '.*\/callbacks\/snap\//);
      assert.ok(signed.headers['x-signature']);
      // Only what the provider itself sends: never a client secret or a private key.
      for (const secret of demoText.match(/demo-[a-z-]+-client-secret-change-me/g)!)
        assert.ok(!text.includes(secret), `the answer contains ${secret}`);
      assert.ok(!text.includes('PRIVATE KEY'));
      const sent = await fetch(`${bed.gateway.url}${signed.url}`, {
        method: signed.method,
        headers: signed.headers,
        body: signed.body,
      });
      assert.equal(sent.status, 200, await sent.text());
      const event = await eventOf(reference);
      assert.equal(event.data.account, account);
      assert.equal(event.data.status, 'succeeded');
    });
  }

  it('a service and status of the account: midtrans-snap 56 cancelled', async () => {
    const { status, text } = await sign({
      status: 'cancelled',
      account: 'midtrans-snap',
      service: '56',
    });
    assert.equal(status, 200, text);
    const signed = JSON.parse(text) as Json;
    assert.equal(signed.url, '/callbacks/snap/midtrans-snap/v1.0/debit/notify');
    assert.equal(JSON.parse(signed.body).latestTransactionStatus, '05');
    assert.equal(signed.routingKey, 'payment.cancelled.snap');
  });

  it('refuses naming the problem: unknown account 404, a service it does not receive or a bad status 400', async () => {
    const unknown = await sign({ status: 'succeeded', account: 'paypal' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /No SNAP account or profile \\"paypal\\"/);
    const service = await sign({ status: 'succeeded', account: 'nicepay-snap', service: '52' });
    assert.equal(service.status, 400);
    assert.match(service.text, /does not receive service 52/);
    const badStatus = await sign({ status: 'refunded', account: 'nicepay-snap' });
    assert.equal(badStatus.status, 400);
    assert.match(badStatus.text, /no status \\"refunded\\"/);
    const missing = await sign({ account: 'nicepay-snap' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /status must be a non-empty string/);
  });
});
