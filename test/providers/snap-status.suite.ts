import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import { snapSandboxSettings } from '../../src/providers/snap/snap.sandbox-config.js';
import { SnapSandbox } from '../../src/providers/snap/snap.sandbox.js';
import { type RunningSandbox, startSandbox } from '../../src/dev/sandbox.js';
import { accountsFile, type AccountsFileHandle } from '../support/accounts.js';
import { sleep } from '../support/broker.js';
import type { DatabaseKind } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { jakartaTimestamp, postSnap, rsaPair, snapHeaders, vaPayment } from '../support/snap.js';

const VA_PATH = '/v1.0/transfer-va/payment';
const ACCOUNT = 'nicepay-va';
const CLIENT_KEY = 'IONPAYTEST';
const SECRET = 'nicepay-snap-client-secret-0123456789';

/** The provider's key pair (it signs notifications), the merchant's (it signs token requests). */
const provider = rsaPair();
const merchant = rsaPair();
const stranger = rsaPair();

function accounts(apiUrl: string) {
  return JSON.stringify({
    snap: {
      accounts: [
        {
          id: ACCOUNT,
          profile: 'nicepay-snap',
          partnerId: CLIENT_KEY,
          clientKey: CLIENT_KEY,
          channelId: '95221',
          apiUrl,
          keys: [
            {
              label: '2026',
              publicKey: provider.publicKey,
              privateKey: merchant.privateKey,
              clientSecret: SECRET,
            },
          ],
        },
        {
          // A body-signing account beside it: its callbacks are never hints, never inquired.
          id: 'midtrans-side',
          profile: 'midtrans-snap',
          keys: [{ publicKey: provider.publicKey }],
        },
      ],
    },
  });
}

let counter = 0;
const reference = () => `ORD-A-${Date.now()}-${++counter}`;

/**
 * Family A (NICEPAY SNAP) signs only X-CLIENT-KEY|X-TIMESTAMP: the notification is a hint and the
 * event is built from NICEPAY's SNAP status API — played by the sandbox over real HTTP.
 */
export function snapStatusSuite(kind: DatabaseKind): void {
  describe(`SNAP family rsa-clientkey (nicepay-snap) with the status API on ${kind}`, () => {
    let bed: TestBed;
    let file: AccountsFileHandle;
    let sandbox: RunningSandbox;
    let snap: SnapSandbox;

    before(async () => {
      file = accountsFile(accounts('http://127.0.0.1:9'));
      // The sandbox plays the provider of the configured account with the provider's private key.
      const config = loadConfig({ NODE_ENV: 'test', ACCOUNTS_FILE: file.path });
      const { settings } = snapSandboxSettings(config.providers.snap, [
        createPrivateKey(provider.privateKey),
      ]);
      sandbox = await startSandbox({
        providers: [(context) => new SnapSandbox(context, settings)],
      });
      snap = sandbox.provider<SnapSandbox>('snap');
      file.replace(accounts(sandbox.url));
      bed = await createTestBed(kind, {
        ACCOUNTS_FILE: file.path,
        RECONCILE_AFTER_SECONDS: '1',
        RECONCILE_INTERVAL_SECONDS: '1',
        // A contradicted claim is asked again on this schedule (the follow-up test).
        VERIFY_RECHECK_SECONDS: '1,1,1,1,1,1,1,1,1,1',
      });
      sandbox.setGatewayUrl(bed.gateway.url);
    });
    after(async () => {
      await bed.teardown();
      await sandbox.close();
      file.remove();
    });

    const url = () => `${bed.gateway.url}/callbacks/snap/${ACCOUNT}${VA_PATH}`;
    const eventsFor = (trxId: string) =>
      bed.tap.bodies().filter((body) => body.data?.merchantReference === trxId);
    async function eventsAfterSettling(trxId: string, count: number) {
      const deadline = Date.now() + 15_000;
      while (eventsFor(trxId).length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} event(s) for ${trxId}`);
        await sleep(50);
      }
      await sleep(800);
      return eventsFor(trxId);
    }
    const sign = (
      body: string,
      options: { privateKey?: string; timestamp?: string; externalId?: string } = {},
    ) =>
      snapHeaders({
        family: 'rsa-clientkey',
        signedPath: VA_PATH,
        body,
        privateKey: options.privateKey ?? provider.privateKey,
        clientKey: CLIENT_KEY,
        partnerId: CLIENT_KEY,
        timestamp: options.timestamp,
        externalId: options.externalId,
      });

    it("the sandbox's genuine notification is a hint: one verified event, built from the status API's answer", async () => {
      const created = await snap.create({ account: ACCOUNT, status: '00', amount: '75000.00' });
      assert.equal(created.gatewayStatus, 200, 'acknowledged before any inquiry');
      const trxId = created.transaction.reference;
      const [event] = await eventsAfterSettling(trxId, 1);
      assert.equal(event.type, 'payment.succeeded');
      assert.equal(event.data.provider, 'snap');
      assert.equal(event.data.account, ACCOUNT);
      assert.equal(event.data.verification.method, 'inquiry', 'the answer is the event');
      assert.equal(event.data.amount, '75000');
      assert.equal(event.data.channel, 'NICEPAY-SNAP');
      assert.equal(event.data.raw.responseCode, '2002600', "raw is the status API's answer");
      assert.ok((snap.get(created.key)?.inquiries ?? 0) >= 1, 'the status API was asked');
    });

    it('a notification signed by the test (generated key pair) of a transaction the sandbox holds is confirmed', async () => {
      const trxId = reference();
      const body = vaPayment(trxId, '20000.00', { additionalInfo: { tXidVA: `PAY-${trxId}` } });
      // The sandbox learns the transaction from the notification (as NICEPAY holds it).
      const headers = sign(body);
      const held = await fetch(`${sandbox.url}/sandbox/snap/callbacks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          method: 'POST',
          path: `/callbacks/snap/${ACCOUNT}${VA_PATH}`,
          headers,
          body,
        }),
      });
      assert.ok(held.ok, await held.clone().text());
      const res = await postSnap(url(), body, headers);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json, { responseCode: '2002500', responseMessage: 'Successful' });
      const [event] = await eventsAfterSettling(trxId, 1);
      assert.equal(event.type, 'payment.succeeded');
      assert.equal(event.data.amount, '20000');
    });

    it('the body is not signed: a changed amount under genuine headers never becomes the event', async () => {
      const created = await snap.create({
        account: ACCOUNT,
        status: '00',
        amount: '10000.00',
        send: false,
      });
      const notification = await snap.notification(created.key);
      const body = notification.body!.replace('"10000.00"', '"990000.00"');
      assert.notEqual(body, notification.body);
      const res = await postSnap(url(), body, notification.headers);
      assert.equal(res.status, 200, 'the signature (X-CLIENT-KEY|X-TIMESTAMP) is genuine');
      await sleep(1500);
      const published = eventsFor(created.transaction.reference);
      assert.ok(
        published.every((event) => event.data.amount !== '990000'),
        'the forged amount is never published',
      );
      const hints = await bed.db.query<{ outcome: string }>(
        `SELECT outcome FROM callbacks WHERE raw_body LIKE '%990000.00%'`,
      );
      assert.equal(hints.length, 1, 'stored as a hint, kept for the record');
    });

    it('a notification that says paid while the provider says pending publishes no payment.succeeded', async () => {
      const created = await snap.create({
        account: ACCOUNT,
        status: '03',
        amount: '30000.00',
        send: false,
      });
      const notification = await snap.notification(created.key);
      // A captured "paid" notification replayed for an unpaid VA: headers genuine, body not signed.
      const body = notification.body!;
      const res = await postSnap(url(), body, notification.headers);
      assert.equal(res.status, 200);
      await sleep(1500);
      assert.ok(
        eventsFor(created.transaction.reference).every(
          (event) => event.type !== 'payment.succeeded',
        ),
      );
    });

    it('a pending VA is followed up until the provider says paid; a body-signed account is never inquired', async () => {
      const created = await snap.create({
        account: ACCOUNT,
        status: '03',
        amount: '45000.00',
        send: false,
      });
      const notification = await snap.notification(created.key);
      assert.equal((await postSnap(url(), notification.body!, notification.headers)).status, 200);
      const trxId = created.transaction.reference;
      await sleep(1500);
      assert.ok(eventsFor(trxId).every((event) => event.type !== 'payment.succeeded'));
      // The customer pays; no notification reaches the gateway: the follow-up finds it.
      await snap.update(created.key, { status: '00', send: false });
      const deadline = Date.now() + 20_000;
      while (!eventsFor(trxId).some((event) => event.type === 'payment.succeeded')) {
        if (Date.now() > deadline) throw new Error(`no payment.succeeded for ${trxId}`);
        await sleep(100);
      }
      const paid = eventsFor(trxId).find((event) => event.type === 'payment.succeeded')!;
      assert.match(paid.data.verification.method, /^(reconciliation|inquiry)$/);
      assert.equal(paid.data.amount, '45000');

      // A pending direct debit of the rsa-body account: published on its signature, never asked.
      const debitRef = reference();
      const body = JSON.stringify({
        originalPartnerReferenceNo: debitRef,
        originalReferenceNo: `DD-${debitRef}`,
        latestTransactionStatus: '03',
        amount: { value: '900.00', currency: 'IDR' },
      });
      const res = await postSnap(
        `${bed.gateway.url}/callbacks/snap/midtrans-side/v1.0/debit/notify`,
        body,
        snapHeaders({
          family: 'rsa-body',
          signedPath: '/v1.0/debit/notify',
          body,
          privateKey: provider.privateKey,
        }),
      );
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const [pending] = await eventsAfterSettling(debitRef, 1);
      assert.equal(pending.type, 'payment.pending');
      assert.equal(pending.data.verification.method, 'signature');
      await sleep(3000); // three reconciliation passes
      const asked = await bed.db.query(
        `SELECT provider FROM inquiry_schedule WHERE account = 'midtrans-side'`,
      );
      assert.deepEqual(asked, [], 'never scheduled for an inquiry');
    });

    it('a forged signature, another key, a skewed timestamp and a replayed X-EXTERNAL-ID are refused in SNAP shape', async () => {
      const trxId = reference();
      const body = vaPayment(trxId);
      const forged = {
        ...sign(body),
        // rsa-clientkey signs clientKey|timestamp, not the body: another body's signature in the
        // same second is the genuine one, so its first character is changed (never kept).
        'x-signature': sign(vaPayment(reference()))['x-signature'].replace(/^./, (first) =>
          first === 'A' ? 'B' : 'A',
        ),
      };
      const a = await postSnap(url(), body, forged);
      assert.equal(a.status, 401);
      assert.equal(a.json.responseCode, '4012500');
      const b = await postSnap(url(), body, sign(body, { privateKey: stranger.privateKey }));
      assert.equal(b.status, 401);
      assert.equal(b.json.responseCode, '4012500');
      const c = await postSnap(
        url(),
        body,
        sign(body, { timestamp: jakartaTimestamp(10 * 60_000) }),
      );
      assert.equal(c.status, 401);
      assert.equal(c.json.responseCode, '4012500');
      const externalId = `EXT-A-${Date.now()}`;
      const first = await postSnap(url(), body, sign(body, { externalId }));
      assert.equal(first.status, 200);
      const again = await postSnap(url(), body, sign(body, { externalId }));
      assert.equal(again.status, 409);
      assert.equal(again.json.responseCode, '4092500');
      const rows = await bed.db.query(
        `SELECT id FROM callbacks WHERE raw_body LIKE '%${trxId}%' AND outcome NOT IN ('invalid', 'rejected_auth', 'rejected_address')`,
      );
      assert.equal(
        rows.length,
        1,
        'the replay is not stored again (refusals are kept as refused attempts)',
      );
      // The sandbox does not hold this transaction: the status API does not confirm it.
      await sleep(1500);
      assert.deepEqual(eventsFor(trxId), []);
    });
  });
}
