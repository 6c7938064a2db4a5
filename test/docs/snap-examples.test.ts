/**
 * docs/snap.md's accounts-file examples, one per signature family and an inline profile, are
 * complete: with real keys in place of the PEM placeholders each is accepted as written, and the
 * body-signing ones receive a genuine notification into one event through a running gateway.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/gateway-config.js';
import { projectRoot } from '../../src/config/startup-environment.js';
import { accountsFile, type AccountsFileHandle } from '../support/accounts.js';
import { sleep } from '../support/broker.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { jakartaTimestamp, postSnap, rsaPair, type Family, snapHeaders } from '../support/snap.js';

const DOC = readFileSync(join(projectRoot(), 'docs/snap.md'), 'utf8');
const provider = rsaPair();
const merchant = rsaPair();

/** The doc's YAML blocks that configure SNAP, PEM placeholders replaced by generated keys. */
const EXAMPLES = [...DOC.matchAll(/^```yaml\n([\s\S]*?)^```/gm)]
  .map((match) => match[1])
  .filter((text) => /^snap:/m.test(text))
  .map((text) =>
    text.replace(
      /^( *)-----BEGIN (PUBLIC|PRIVATE) KEY-----\n[\s\S]*?-----END \2 KEY-----$/gm,
      (_match, indent: string, kind: string) =>
        (kind === 'PUBLIC' ? provider.publicKey : merchant.privateKey)
          .trim()
          .split('\n')
          .map((line) => indent + line)
          .join('\n'),
    ),
  );

interface SnapExample {
  snap: {
    profiles?: Record<string, { family: Family }>;
    accounts: Array<{
      id: string;
      profile: string;
      partnerId?: string;
      clientKey?: string;
      override?: { signedPathPrefix?: string };
      keys: Array<{ clientSecret?: string }>;
    }>;
  };
}

describe('docs/snap.md accounts-file examples', () => {
  it('has one example per family and an inline profile', () => {
    const families = EXAMPLES.map((text) => {
      const config = loadConfig({ NODE_ENV: 'test', ACCOUNTS_FILE: writeTemp(text) });
      return config.providers.snap!.accounts.map((a) => a.profile.family);
    }).flat();
    assert.deepEqual([...new Set(families)].sort(), [
      'hmac-notifyurl',
      'hmac-token',
      'rsa-body',
      'rsa-clientkey',
    ]);
    assert.equal(EXAMPLES.length, 5);
  });

  describe('each body-signing example receives a genuine notification', () => {
    let bed: TestBed;
    let file: AccountsFileHandle;
    const parsed = EXAMPLES.map((text) => parse(text) as SnapExample);
    before(async () => {
      // Every example's accounts (and profiles) in one file, as written.
      const merged = {
        snap: {
          profiles: Object.assign({}, ...parsed.map((p) => p.snap.profiles ?? {})),
          accounts: parsed.flatMap((p) => p.snap.accounts),
        },
      };
      file = accountsFile(JSON.stringify(merged));
      bed = await createTestBed('sqlite', { ACCOUNTS_FILE: file.path });
    });
    after(async () => {
      await bed.teardown();
      file.remove();
    });

    for (const example of EXAMPLES.map((text) => parse(text) as SnapExample)) {
      const account = example.snap.accounts[0];
      const family =
        example.snap.profiles?.[account.profile]?.family ??
        ({
          'doku-snap': 'hmac-token',
          'midtrans-snap': 'rsa-body',
          'ifortepay-snap': 'hmac-notifyurl',
          'nicepay-snap': 'rsa-clientkey',
        }[account.profile] as Family);
      if (family === 'rsa-clientkey') continue; // its event comes from the status API (snap-status suites)
      it(`${account.id} (${family})`, async () => {
        const debit = example.snap.profiles !== undefined;
        const service = debit ? '/v1.0/debit/notify' : '/v1.0/transfer-va/payment';
        const trxId = `DOC-${account.id}-${Date.now()}`;
        const body = JSON.stringify(
          debit
            ? {
                originalPartnerReferenceNo: trxId,
                originalReferenceNo: `R-${trxId}`,
                latestTransactionStatus: '09',
                amount: { value: '12500.00', currency: 'IDR' },
              }
            : {
                partnerServiceId: '   88899',
                customerNo: '0001',
                virtualAccountNo: '   888990001',
                trxId,
                paymentRequestId: `R-${trxId}`,
                paidAmount: { value: '12500.00', currency: 'IDR' },
              },
        );
        let token: string | undefined;
        if (family === 'hmac-token') {
          const timestamp = jakartaTimestamp();
          const signed = snapHeaders({
            family: 'rsa-clientkey',
            signedPath: '',
            body: '{}',
            timestamp,
            privateKey: provider.privateKey,
            clientKey: account.clientKey,
          });
          const res = await postSnap(
            `${bed.gateway.url}/callbacks/snap/${account.id}/v1.0/access-token/b2b`,
            JSON.stringify({ grantType: 'client_credentials' }),
            {
              'content-type': 'application/json',
              'x-timestamp': timestamp,
              'x-client-key': account.clientKey!,
              'x-signature': signed['x-signature'],
            },
          );
          assert.equal(res.status, 200, JSON.stringify(res.json));
          token = res.json.accessToken as string;
        }
        const headers = snapHeaders({
          family,
          signedPath: (account.override?.signedPathPrefix ?? '') + service,
          body,
          privateKey: provider.privateKey,
          secret: account.keys[0].clientSecret,
          token,
          partnerId: account.partnerId,
        });
        const res = await postSnap(
          `${bed.gateway.url}/callbacks/snap/${account.id}${service}`,
          body,
          headers,
        );
        assert.equal(res.status, 200, JSON.stringify(res.json));
        const deadline = Date.now() + 10_000;
        while (!bed.tap.bodies().some((e) => e.data?.merchantReference === trxId)) {
          if (Date.now() > deadline) throw new Error(`no event for ${trxId}`);
          await sleep(25);
        }
        const event = bed.tap.bodies().find((e) => e.data?.merchantReference === trxId)!;
        assert.equal(event.data.account, account.id);
        assert.equal(event.type, debit ? 'payment.expired' : 'payment.succeeded');
      });
    }
  });
});

let temp: AccountsFileHandle[] = [];
function writeTemp(text: string): string {
  const handle = accountsFile(text);
  temp.push(handle);
  return handle.path;
}
after(() => {
  for (const handle of temp) handle.remove();
  temp = [];
});
