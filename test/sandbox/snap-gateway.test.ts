import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import {
  SNAP_SANDBOX_KEYS_FILE,
  snapProviderKeys,
  snapSandboxSettings,
} from '../../src/providers/snap/snap.sandbox-config.js';
import type { SnapSandbox } from '../../src/providers/snap/snap.sandbox.js';
import { snapTimestamp } from '../../src/providers/snap/snap.sandbox-signing.js';
import type { SnapNotificationOptions } from '../../src/providers/snap/snap.simulator.js';
import { type RunningSandbox, sandboxProviders, startSandbox } from '../../src/dev/sandbox.js';
import { accountsFile, type AccountsFileHandle } from '../support/accounts.js';
import { sleep } from '../support/broker.js';
import type { DatabaseKind } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';

/**
 * The provider side against the gateway: the sandbox, written from SNAP.md and the providers'
 * docs, notifies a real gateway configured from an accounts file as docs/snap.md shows, for each
 * body-signing family (A, confirmed by the status API, is test/providers/snap-status*). Genuine
 * notifications — pretty-printed with spaces inside strings, with \u escapes, signed over the
 * provider's view of the URL — become exactly one event; forged, re-signed, skewed, replayed and
 * gateway-path-signed ones none.
 */

const pem = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const dokuKeys = pem();
const midtransKeys = pem();
const stranger = pem();

const ACCOUNTS = {
  snap: {
    allowedIps: '*',
    accounts: [
      {
        id: 'dk',
        profile: 'doku-snap',
        partnerId: 'BRN-0001',
        clientKey: 'BRN-0001',
        override: { signedPathPrefix: '/public/merchant' },
        keys: [{ publicKey: dokuKeys.publicKey, clientSecret: 'doku-client-secret-0123456789' }],
      },
      {
        id: 'mt',
        profile: 'midtrans-snap',
        partnerId: 'G000111',
        override: { signedPathPrefix: '/public/merchant' },
        keys: [{ publicKey: midtransKeys.publicKey }],
      },
      {
        id: 'ifp',
        profile: 'ifortepay-snap',
        partnerId: 'IFP-0001',
        override: { signedPathPrefix: 'https://shop.example/hooks/ifp' },
        keys: [{ clientSecret: 'ifortepay-client-secret-0123456789' }],
      },
    ],
  },
};

/** A forgery per family: re-signed with a key or secret the gateway does not know. */
const FORGED: Record<string, SnapNotificationOptions> = {
  dk: { clientSecret: 'not-the-client-secret' },
  mt: { privateKey: stranger.privateKey },
  ifp: { clientSecret: 'not-the-client-secret' },
};

/** Signed over the gateway's own path (what a proxy-unaware verifier would expect). */
const GATEWAY_VIEW = (
  account: string,
  path: string,
  gatewayUrl: string,
): SnapNotificationOptions =>
  account === 'ifp' ? { notifyUrl: `${gatewayUrl}${path}` } : { signedPath: path };

for (const kind of ['postgres', 'sqlite'] as DatabaseKind[]) {
  describe(`SNAP sandbox → gateway, families B, C, D (${kind})`, () => {
    let file: AccountsFileHandle;
    let bed: TestBed;
    let running: RunningSandbox;
    let snap: SnapSandbox;

    before(async () => {
      file = accountsFile(JSON.stringify(ACCOUNTS), 'accounts.json');
      bed = await createTestBed(kind, { ACCOUNTS_FILE: file.path });
      // The provider keys go beside the accounts file, where the sandbox looks for them.
      writeFileSync(
        join(dirname(file.path), SNAP_SANDBOX_KEYS_FILE),
        JSON.stringify({ providerPrivateKeys: [dokuKeys.privateKey, midtransKeys.privateKey] }),
      );
      const config = loadConfig({ NODE_ENV: 'test', ACCOUNTS_FILE: file.path });
      const played = snapSandboxSettings(config.providers.snap, snapProviderKeys(file.path));
      assert.deepEqual(played.skipped, []);
      assert.deepEqual(
        played.settings.providers.map((p) => p.account),
        ['dk', 'mt', 'ifp'],
      );
      running = await startSandbox({
        gatewayUrl: bed.gateway.url,
        providers: sandboxProviders(config),
      });
      snap = running.provider<SnapSandbox>('snap');
    });
    after(async () => {
      await running?.close();
      await bed?.teardown();
      file?.remove();
    });

    const eventsOf = (reference: string) =>
      bed.tap.bodies().filter((body) => body.subject === reference);

    async function oneEvent(reference: string) {
      const deadline = Date.now() + 10_000;
      while (eventsOf(reference).length === 0) {
        if (Date.now() > deadline) throw new Error(`no event for ${reference}`);
        await sleep(25);
      }
      await sleep(400); // a second one would be published by now
      const events = eventsOf(reference);
      assert.equal(events.length, 1, `events for ${reference}`);
      return events[0];
    }

    for (const account of ['dk', 'mt', 'ifp']) {
      describe(`account ${account}`, () => {
        it('genuine, pretty-printed with spaces inside strings: 2002500 and exactly one event', async () => {
          const held = await snap.create({ account, send: false });
          const callback = await snap.notification(held.key, {
            layout: 'pretty',
            spacesInStrings: true,
          });
          assert.match(callback.body!, /\n {2}"virtualAccountName": " {2}Budi {3}Santoso {2}"/);
          assert.equal(await snap.send(callback), 200);
          const event = await oneEvent(held.transaction.reference);
          assert.equal(event.data.account, account);
          assert.equal(event.data.amount, '10000');
          assert.equal(event.data.currency, 'IDR');
          assert.equal(event.data.status, 'succeeded');
          // A provider retry of the same notification (same X-EXTERNAL-ID) is a duplicate.
          assert.equal(await snap.send(callback), 409);
          await sleep(300);
          assert.equal(eventsOf(held.transaction.reference).length, 1);
        });

        it('genuine with \\u escapes: verified over the bytes sent', async () => {
          const held = await snap.create({ account, send: false });
          const callback = await snap.notification(held.key, { unicodeEscapes: true });
          assert.ok(callback.body!.includes('Jos\\u00e9 M\\u00fcller'));
          assert.equal(await snap.send(callback), 200);
          await oneEvent(held.transaction.reference);
        });

        it('forged, skewed and signed over the gateway path: 401 and no event; then the genuine one: one event', async () => {
          const held = await snap.create({ account, send: false });
          const old = snapTimestamp(new Date(Date.now() - 10 * 60_000));
          const attempts: Array<[string, SnapNotificationOptions]> = [
            ['re-signed with another key or secret', FORGED[account]],
            ['X-TIMESTAMP 10 minutes old', { timestamp: old }],
            [
              "signed over the gateway's path, not the provider's view",
              GATEWAY_VIEW(
                account,
                `/callbacks/snap/${account}/v1.0/transfer-va/payment`,
                bed.gateway.url,
              ),
            ],
          ];
          for (const [what, options] of attempts) {
            const status = await snap.send(await snap.notification(held.key, options));
            assert.equal(status, 401, what);
          }
          await sleep(500);
          assert.equal(eventsOf(held.transaction.reference).length, 0);
          const genuine = await snap.resend(held.key);
          assert.equal(genuine.gatewayStatus, 200);
          await oneEvent(held.transaction.reference);
        });
      });
    }

    it('B asks the gateway for its token; a token request signed with another key is refused', async () => {
      const genuine = await snap.requestToken('dk');
      assert.equal(genuine.status, 200);
      assert.equal(genuine.body?.responseCode, '2007300');
      assert.equal(typeof genuine.body?.accessToken, 'string');
      const forged = await snap.requestToken('dk', { privateKey: stranger.privateKey });
      assert.equal(forged.status, 401);
      assert.equal(forged.body?.responseCode, '4017300');
    });

    it('C QR MPM notify 52 failed → payment.failed; D debit notify 56 → payment.succeeded', async () => {
      const qr = await snap.create({ account: 'mt', service: '52', status: 'failed' });
      assert.equal(qr.gatewayStatus, 200);
      const failed = await oneEvent(qr.transaction.reference);
      assert.equal(failed.data.status, 'failed');
      const debit = await snap.create({ account: 'ifp', service: '56' });
      assert.equal(debit.gatewayStatus, 200);
      assert.equal((await oneEvent(debit.transaction.reference)).data.status, 'succeeded');
    });
  });
}
