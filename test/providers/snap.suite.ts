import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import { CLAIM_LEASE_MS } from '../../src/providers/snap/snap.external-ids.js';
import { accountsFile, type AccountsFileHandle } from '../support/accounts.js';
import type { DatabaseKind } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import {
  type Family,
  jakartaTimestamp,
  postSnap,
  rsaPair,
  snapHeaders,
  vaPayment,
} from '../support/snap.js';

const VA_PATH = '/v1.0/transfer-va/payment';
const DEBIT_PATH = '/v1.0/debit/notify';
const SECRET_B = 'doku-client-secret-0123456789';
const SECRET_D = 'ifortepay-client-secret-0123456789';

const provider = rsaPair();
const stranger = rsaPair();

/** One account per body-signing family, as docs/snap.md configures them. */
const ACCOUNTS = {
  snap: {
    accounts: [
      {
        id: 'ifortepay-main',
        profile: 'ifortepay-snap',
        partnerId: 'PARTNER-1',
        // iFortepay signs the notify URL it was given, not the gateway's path behind the ingress.
        override: { signedPathPrefix: 'https://merchant.example/snap' },
        keys: [{ label: 'k1', clientSecret: SECRET_D }],
      },
      {
        id: 'midtrans-main',
        profile: 'midtrans-snap',
        partnerId: 'PARTNER-1',
        override: { signedPathPrefix: '/merchant-api' },
        keys: [{ label: 'k1', publicKey: provider.publicKey }],
      },
      {
        // A rotation: the old key retired yesterday, the new one valid since.
        id: 'midtrans-rotating',
        profile: 'midtrans-snap',
        keys: [
          { label: 'old', publicKey: provider.publicKey, notAfter: '2020-01-01T00:00:00Z' },
          { label: 'new', publicKey: stranger.publicKey, notBefore: '2020-01-01T00:00:01Z' },
        ],
      },
      {
        id: 'doku-main',
        profile: 'doku-snap',
        partnerId: 'PARTNER-1',
        clientKey: 'DOKU-CLIENT-1',
        keys: [{ label: 'k1', publicKey: provider.publicKey, clientSecret: SECRET_B }],
      },
    ],
  },
};

interface FamilyCase {
  family: Family;
  account: string;
  profile: string;
  /** What the provider signs for the VA payment service. */
  signedVaPath: string;
  /** Signs `body` as the genuine provider (or with `other` credentials). */
  sign(
    bed: TestBed,
    body: string,
    options?: { timestamp?: string; externalId?: string; other?: boolean; signedPath?: string },
  ): Promise<Record<string, string>>;
}

/** Family B: the provider's access token, obtained from the gateway. */
async function dokuToken(bed: TestBed, privateKey = provider.privateKey) {
  const timestamp = jakartaTimestamp();
  const res = await fetch(`${bed.gateway.url}/callbacks/snap/doku-main/v1.0/access-token/b2b`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-timestamp': timestamp,
      'x-client-key': 'DOKU-CLIENT-1',
      'x-signature': snapHeaders({
        family: 'rsa-clientkey',
        signedPath: '',
        body: '{}',
        timestamp,
        privateKey,
        clientKey: 'DOKU-CLIENT-1',
      })['x-signature'],
    },
    body: JSON.stringify({ grantType: 'client_credentials' }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const FAMILIES: FamilyCase[] = [
  {
    family: 'hmac-notifyurl',
    account: 'ifortepay-main',
    profile: 'ifortepay-snap',
    signedVaPath: `https://merchant.example/snap${VA_PATH}`,
    async sign(_bed, body, options = {}) {
      return snapHeaders({
        family: 'hmac-notifyurl',
        signedPath: options.signedPath ?? `https://merchant.example/snap${VA_PATH}`,
        body,
        secret: options.other ? 'another-secret-entirely' : SECRET_D,
        ...options,
      });
    },
  },
  {
    family: 'rsa-body',
    account: 'midtrans-main',
    profile: 'midtrans-snap',
    signedVaPath: `/merchant-api${VA_PATH}`,
    async sign(_bed, body, options = {}) {
      return snapHeaders({
        family: 'rsa-body',
        signedPath: options.signedPath ?? `/merchant-api${VA_PATH}`,
        body,
        privateKey: options.other ? stranger.privateKey : provider.privateKey,
        ...options,
      });
    },
  },
  {
    family: 'hmac-token',
    account: 'doku-main',
    profile: 'doku-snap',
    signedVaPath: VA_PATH,
    async sign(bed, body, options = {}) {
      const { json } = await dokuToken(bed);
      return snapHeaders({
        family: 'hmac-token',
        signedPath: options.signedPath ?? VA_PATH,
        body,
        token: json.accessToken as string,
        secret: options.other ? 'another-secret-entirely' : SECRET_B,
        ...options,
      });
    },
  },
];

let counter = 0;
const reference = (family: string) => `ORD-${family}-${Date.now()}-${++counter}`;

export function snapSuite(kind: DatabaseKind): void {
  describe(`SNAP provider family on ${kind}`, () => {
    let bed: TestBed;
    let file: AccountsFileHandle;
    before(async () => {
      file = accountsFile(JSON.stringify(ACCOUNTS));
      bed = await createTestBed(kind, { ACCOUNTS_FILE: file.path });
    });
    after(async () => {
      await bed.teardown();
      file.remove();
    });

    const urlOf = (account: string, path = VA_PATH) =>
      `${bed.gateway.url}/callbacks/snap/${account}${path}`;
    const eventsFor = (trxId: string) =>
      bed.tap.bodies().filter((body) => body.data?.merchantReference === trxId);
    /** `body` signed by the Midtrans-style provider of account midtrans-main, posted to `path`. */
    const toMidtrans = (body: string, path = VA_PATH, extra: { externalId?: string } = {}) =>
      postSnap(
        urlOf('midtrans-main', path),
        body,
        snapHeaders({
          family: 'rsa-body',
          signedPath: `/merchant-api${path}`,
          body,
          privateKey: provider.privateKey,
          ...extra,
        }),
      );
    /** A direct-debit notification (56) of `trxId` in status `code`. */
    const debitBody = (trxId: string, code: string, value: string) =>
      JSON.stringify({
        originalPartnerReferenceNo: trxId,
        originalReferenceNo: `DD-${trxId}`,
        latestTransactionStatus: code,
        amount: { value, currency: 'IDR' },
      });

    async function oneEventFor(trxId: string) {
      const deadline = Date.now() + 10_000;
      while (eventsFor(trxId).length === 0) {
        if (Date.now() > deadline) throw new Error(`no event for ${trxId}`);
        await sleep(25);
      }
      await sleep(300);
      const events = eventsFor(trxId);
      assert.equal(events.length, 1, `exactly one event for ${trxId}`);
      return events[0];
    }

    /** Nothing is published for `trxId` (after the outbox had time to publish). */
    async function noEventFor(trxId: string) {
      await sleep(800);
      assert.deepEqual(eventsFor(trxId), [], `no event for ${trxId}`);
    }

    for (const c of FAMILIES) {
      describe(`family ${c.family} (${c.profile})`, () => {
        it('a genuine VA payment notification is acknowledged 2002500 and becomes exactly one verified event', async () => {
          const trxId = reference(c.family);
          const body = vaPayment(trxId, '150000.00');
          const res = await postSnap(urlOf(c.account), body, await c.sign(bed, body));
          assert.equal(res.status, 200, JSON.stringify(res.json));
          assert.deepEqual(res.json, { responseCode: '2002500', responseMessage: 'Successful' });
          const event = await oneEventFor(trxId);
          assert.equal(event.type, 'payment.succeeded');
          assert.equal(event.source, `/providers/snap/${c.account}`);
          assert.equal(event.data.provider, 'snap');
          assert.equal(event.data.account, c.account);
          assert.equal(
            event.data.amount,
            '150000',
            'the amount object becomes the canonical decimal',
          );
          assert.equal(event.data.currency, 'IDR');
          assert.equal(event.data.channel, c.profile.toUpperCase(), 'the profile that produced it');
          assert.equal(event.data.paymentMethod, 'virtual_account');
          assert.equal(event.data.providerTransactionId, `PAY-${trxId}`);
          assert.equal(event.data.verification.method, 'signature');
          assert.equal(event.data.occurredAt, '2024-11-20T07:14:15.000Z');
          // The customer's name is personal data: masked in the published event, whole when stored.
          assert.equal(event.data.raw.virtualAccountName, 'B***');
          const [stored] = await bed.db.query<Record<string, unknown>>(
            `SELECT raw_body, path, account, verification FROM callbacks WHERE merchant_reference = ?`.replace(
              '?',
              kind === 'postgres' ? '$1' : '?',
            ),
            [trxId],
          );
          assert.equal(stored.raw_body, body, 'stored byte for byte');
          assert.equal(stored.path, `/callbacks/snap/:account${VA_PATH}`);
          assert.match(String(stored.verification), new RegExp(`SNAP ${c.family} signature`));
        });

        it('a forged signature is refused 4012500 with no event', async () => {
          const trxId = reference(c.family);
          const body = vaPayment(trxId);
          const headers = await c.sign(bed, body);
          // The genuine signature of another body: the amount was changed after signing.
          const forged = vaPayment(trxId, '990000.00');
          const res = await postSnap(urlOf(c.account), forged, headers);
          assert.equal(res.status, 401);
          assert.equal(res.json.responseCode, '4012500');
          assert.equal(res.json.responseMessage, 'Unauthorized');
          assert.match(String(res.json.message), /X-SIGNATURE does not verify/);
          await noEventFor(trxId);
        });

        it('re-signed with another key (or secret) is refused 4012500 with no event', async () => {
          const trxId = reference(c.family);
          const body = vaPayment(trxId);
          const res = await postSnap(
            urlOf(c.account),
            body,
            await c.sign(bed, body, { other: true }),
          );
          assert.equal(res.status, 401);
          assert.equal(res.json.responseCode, '4012500');
          await noEventFor(trxId);
        });

        it('an X-TIMESTAMP outside the 5-minute skew is refused 4012500 with no event', async () => {
          const trxId = reference(c.family);
          const body = vaPayment(trxId);
          const timestamp = jakartaTimestamp(-6 * 60_000);
          const res = await postSnap(
            urlOf(c.account),
            body,
            await c.sign(bed, body, { timestamp }),
          );
          assert.equal(res.status, 401);
          assert.equal(res.json.responseCode, '4012500');
          assert.match(String(res.json.message), /from the gateway's clock \(allowed: 300 s\)/);
          await noEventFor(trxId);
        });

        it('a repeated X-EXTERNAL-ID of the day is answered 4092500 and never processed twice', async () => {
          const trxId = reference(c.family);
          const body = vaPayment(trxId);
          const externalId = `EXT${Date.now()}${counter}`;
          const first = await postSnap(
            urlOf(c.account),
            body,
            await c.sign(bed, body, { externalId }),
          );
          assert.equal(first.status, 200);
          // A replay: the same notification, freshly signed, same external id.
          const again = await postSnap(
            urlOf(c.account),
            body,
            await c.sign(bed, body, { externalId }),
          );
          assert.equal(again.status, 409);
          assert.equal(again.json.responseCode, '4092500');
          assert.equal(again.json.responseMessage, 'Conflict');
          // X-EXTERNAL-ID is signed by no family: only the same bytes under it are a replay. A
          // captured notification replayed under the id a genuine one will use must not cost the
          // genuine one: the replay is the pipeline's duplicate, the genuine one is processed.
          const nextId = `${externalId}-NEXT`;
          const replay = await postSnap(
            urlOf(c.account),
            body,
            await c.sign(bed, body, { externalId: nextId }),
          );
          assert.equal(replay.status, 200);
          const laterTrx = reference(c.family);
          const later = vaPayment(laterTrx);
          const genuine = await postSnap(
            urlOf(c.account),
            later,
            await c.sign(bed, later, { externalId: nextId }),
          );
          assert.equal(
            genuine.status,
            200,
            'the genuine notification is not a duplicate of a replay',
          );
          await oneEventFor(laterTrx);
          await oneEventFor(trxId);
          const rows = await bed.db.query(
            `SELECT id FROM callbacks WHERE account = '${c.account}' AND merchant_reference = '${trxId}'`,
          );
          assert.equal(rows.length, 1, 'stored once');
        });

        it('string values with spaces and a pretty-printed body (the minify pitfall) verify', async () => {
          const trxId = reference(c.family);
          const compact = vaPayment(trxId, '25000.00', {
            virtualAccountName: '  Budi   Santoso  ',
            additionalInfo: { note: 'paid at  counter 3 ' },
          });
          const pretty = JSON.stringify(JSON.parse(compact), null, 2);
          const res = await postSnap(urlOf(c.account), pretty, await c.sign(bed, pretty));
          assert.equal(res.status, 200, JSON.stringify(res.json));
          const event = await oneEventFor(trxId);
          const [stored] = await bed.db.query<{ raw_body: string }>(
            `SELECT raw_body FROM callbacks WHERE merchant_reference = '${trxId}'`,
          );
          assert.equal(stored.raw_body, pretty, 'the raw bytes are kept, whitespace and all');
          assert.equal(event.data.amount, '25000');
        });

        it('unicode escapes survive: the signature is over the bytes as sent, never a re-serialization', async () => {
          const trxId = reference(c.family);
          const body = vaPayment(trxId).replace('"Budi Santoso"', '"Ren\\u00e9 \\u00c9lise"');
          assert.ok(body.includes('\\u00e9'));
          const res = await postSnap(urlOf(c.account), body, await c.sign(bed, body));
          assert.equal(res.status, 200, JSON.stringify(res.json));
          await oneEventFor(trxId);
          const [stored] = await bed.db.query<{ raw_body: string }>(
            `SELECT raw_body FROM callbacks WHERE merchant_reference = '${trxId}'`,
          );
          assert.equal(stored.raw_body, body);
        });

        it("the signature over the gateway's own path (not the provider's view) is refused", async () => {
          const trxId = reference(c.family);
          const body = vaPayment(trxId);
          const seen = `/callbacks/snap/${c.account}${VA_PATH}`;
          if (c.signedVaPath === VA_PATH) {
            // This account's provider signs exactly the service path: prove a prefix matters.
            const res = await postSnap(
              urlOf(c.account),
              body,
              await c.sign(bed, body, { signedPath: seen }),
            );
            assert.equal(res.status, 401);
          } else {
            const res = await postSnap(
              urlOf(c.account),
              body,
              await c.sign(bed, body, { signedPath: seen }),
            );
            assert.equal(res.status, 401);
            assert.notEqual(c.signedVaPath, seen);
          }
          await noEventFor(trxId);
        });

        it('an authentic body without an amount is acknowledged and quarantined, with no event', async () => {
          const trxId = reference(c.family);
          const body = JSON.stringify({ ...JSON.parse(vaPayment(trxId)), paidAmount: undefined });
          const res = await postSnap(urlOf(c.account), body, await c.sign(bed, body));
          assert.equal(res.status, 200);
          assert.equal(res.json.responseCode, '2002500');
          const rows = await bed.db.query<{ outcome: string }>(
            `SELECT outcome FROM callbacks WHERE account = '${c.account}' AND raw_body LIKE '%${trxId}%'`,
          );
          assert.deepEqual(
            rows.map((row) => row.outcome),
            ['quarantined'],
          );
          await noEventFor(trxId);
        });
      });
    }

    it('a direct-debit notification (56) is acknowledged 2005600 and its latestTransactionStatus mapped', async () => {
      const trxId = reference('debit');
      const res = await toMidtrans(debitBody(trxId, '06', '5000.50'), DEBIT_PATH);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json, { responseCode: '2005600', responseMessage: 'Successful' });
      const event = await oneEventFor(trxId);
      assert.equal(event.type, 'payment.failed');
      assert.equal(event.data.providerStatus, '06');
      assert.equal(event.data.paymentMethod, 'direct_debit');
      assert.equal(event.data.amount, '5000.5');
    });

    it('a copy waits on an unfinished X-EXTERNAL-ID claim: stored meanwhile → 409; never stored (its holder died) → processed after the lease', async () => {
      const placeholder = kind === 'postgres' ? ['$1', '$2', '$3', '$4'] : ['?', '?', '?', '?'];
      const day = jakartaTimestamp().slice(0, 10);
      // The holder of a claim sent these same bytes (a claim is per id and body).
      const bodies = new Map<string, string>();
      const bodyOf = (trxId: string) =>
        bodies.get(trxId) ?? bodies.set(trxId, vaPayment(trxId)).get(trxId)!;
      const claim = (externalId: string, claimedAt: Date, trxId: string) =>
        bed.db.query(
          `INSERT INTO snap_external_ids (account, partner_id, day, external_id, body_sha256, claim, claimed_at, stored)
           VALUES ('midtrans-main', 'PARTNER-1', ${placeholder[0]}, ${placeholder[1]}, ${placeholder[2]}, 'other-attempt', ${placeholder[3]}, 0)`,
          [
            day,
            externalId,
            createHash('sha256').update(bodyOf(trxId)).digest('hex'),
            kind === 'postgres' ? claimedAt : claimedAt.toISOString(),
          ],
        );
      const send = (trxId: string, externalId: string) =>
        toMidtrans(bodyOf(trxId), VA_PATH, { externalId });
      // A process died 2 minutes ago between claiming and storing: the provider's retry is processed.
      const abandoned = `EXT-ABANDONED-${Date.now()}`;
      const retried = reference('takeover');
      await claim(abandoned, new Date(Date.now() - 120_000), retried);
      assert.equal((await send(retried, abandoned)).status, 200);
      await oneEventFor(retried);

      // A holder that stores while the copy waits: the copy is a duplicate.
      const inFlight = `EXT-INFLIGHT-${Date.now()}`;
      const copy = reference('inflight');
      await claim(inFlight, new Date(), copy);
      const waiting = send(copy, inFlight);
      await sleep(400);
      await bed.db.query(
        `UPDATE snap_external_ids SET stored = 1 WHERE external_id = ${placeholder[0]}`,
        [inFlight],
      );
      const res = await waiting;
      assert.equal(res.status, 409);
      assert.equal(res.json.responseCode, '4092500');
      await noEventFor(copy);

      // A holder that dies just after claiming: the copy waits out the lease, then is processed.
      const dying = `EXT-DYING-${Date.now()}`;
      const late = reference('dying');
      await claim(dying, new Date(Date.now() - CLAIM_LEASE_MS + 1_500), late);
      const started = Date.now();
      assert.equal((await send(late, dying)).status, 200);
      assert.ok(Date.now() - started >= 1_000, 'it waited for the holder first');
      await oneEventFor(late);
    });

    it('a status code not in the profile is pending, with a warning metric', async () => {
      const trxId = reference('unknown');
      const res = await toMidtrans(debitBody(trxId, '42', '700.00'), DEBIT_PATH);
      assert.equal(res.status, 200);
      const event = await oneEventFor(trxId);
      assert.equal(event.type, 'payment.pending');
      assert.equal(event.data.providerStatus, '42');
      const metrics = await (await fetch(`${bed.gateway.managementUrl}/metrics`)).text();
      assert.match(
        metrics,
        /gateway_snap_unknown_status_total\{account="midtrans-main",code="42"\} 1/,
      );
    });

    it('copies racing with one X-EXTERNAL-ID: exactly one is processed, the others are 409', async () => {
      const trxId = reference('race');
      const externalId = `EXT-RACE-${Date.now()}`;
      const body = vaPayment(trxId);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => toMidtrans(body, VA_PATH, { externalId })),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409, 409, 409, 409]);
      await oneEventFor(trxId);
    });

    it('keys rotate as for every provider: the retired key is refused naming it, the new one verifies', async () => {
      const send = (trxId: string, privateKey: string) => {
        const body = vaPayment(trxId);
        return postSnap(
          urlOf('midtrans-rotating'),
          body,
          snapHeaders({ family: 'rsa-body', signedPath: VA_PATH, body, privateKey }),
        );
      };
      const retired = await send(reference('old'), provider.privateKey);
      assert.equal(retired.status, 401);
      assert.match(
        String(retired.json.message),
        /key "old" of account "midtrans-rotating", which is not valid/,
      );
      const fresh = reference('new');
      assert.equal((await send(fresh, stranger.privateKey)).status, 200);
      const event = await oneEventFor(fresh);
      assert.equal(event.data.account, 'midtrans-rotating');
      const [stored] = await bed.db.query<{ credential_key: string }>(
        `SELECT credential_key FROM callbacks WHERE merchant_reference = '${fresh}'`,
      );
      assert.equal(stored.credential_key, 'new');
    });

    it('a service the profile does not accept is refused 404 in SNAP shape', async () => {
      const body = vaPayment(reference('x'));
      const res = await postSnap(
        urlOf('doku-main', '/v1.0/qr/qr-mpm-notify'),
        body,
        snapHeaders({
          family: 'hmac-token',
          signedPath: '/v1.0/qr/qr-mpm-notify',
          body,
          token: 'x',
          secret: SECRET_B,
        }),
      );
      assert.equal(res.status, 404);
      assert.equal(res.json.responseCode, '4045200');
    });

    it('another spelling of a SNAP URL (case, trailing slash, unknown version) is not routed', async () => {
      const body = vaPayment(reference('spelling'));
      for (const path of [
        '/callbacks/snap/midtrans-main/V1.0/transfer-va/payment',
        '/callbacks/snap/midtrans-main/v1.0/transfer-va/payment/',
        '/callbacks/snap/midtrans-main/v2.0/transfer-va/payment',
      ]) {
        const res = await fetch(`${bed.gateway.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        assert.equal(res.status, 404, path);
      }
    });

    it('an unknown account is refused 404 in SNAP shape', async () => {
      const body = vaPayment(reference('x'));
      const res = await postSnap(
        urlOf('nobody'),
        body,
        snapHeaders({
          family: 'rsa-body',
          signedPath: VA_PATH,
          body,
          privateKey: provider.privateKey,
        }),
      );
      assert.equal(res.status, 404);
      assert.equal(res.json.responseCode, '4042500');
      assert.match(String(res.json.message), /No SNAP account "nobody"/);
    });

    it('a missing X-TIMESTAMP is 4002502 and a malformed one 4002501', async () => {
      const body = vaPayment(reference('x'));
      const headers = snapHeaders({
        family: 'rsa-body',
        signedPath: `/merchant-api${VA_PATH}`,
        body,
        privateKey: provider.privateKey,
      });
      const without = { ...headers };
      delete (without as Partial<typeof headers>)['x-timestamp'];
      const missing = await postSnap(urlOf('midtrans-main'), body, without);
      assert.equal(missing.status, 400);
      assert.equal(missing.json.responseCode, '4002502');
      const malformed = await postSnap(urlOf('midtrans-main'), body, {
        ...headers,
        'x-timestamp': '20241120141415',
      });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.responseCode, '4002501');
    });

    it('an X-EXTERNAL-ID longer than 128 characters is 4002501', async () => {
      const res = await toMidtrans(vaPayment(reference('long')), VA_PATH, {
        externalId: '9'.repeat(129),
      });
      assert.equal(res.status, 400);
      assert.equal(res.json.responseCode, '4002501');
    });

    it('a body that is JSON but not an object is 4002501', async () => {
      const res = await toMidtrans('["not", "an", "object"]');
      assert.equal(res.status, 400);
      assert.equal(res.json.responseCode, '4002501');
      assert.match(String(res.json.message), /body must be a JSON object/);
    });

    it('a provider added to the accounts file is served without a restart (reload)', async () => {
      const added = {
        snap: {
          ...ACCOUNTS.snap,
          accounts: [
            ...ACCOUNTS.snap.accounts,
            {
              id: 'late-bank',
              profile: 'midtrans-snap',
              override: { signedPathPrefix: '/late' },
              keys: [{ publicKey: provider.publicKey }],
            },
          ],
        },
      };
      const trxId = reference('reload');
      const body = vaPayment(trxId);
      const send = () =>
        postSnap(
          urlOf('late-bank'),
          body,
          snapHeaders({
            family: 'rsa-body',
            signedPath: `/late${VA_PATH}`,
            body,
            privateKey: provider.privateKey,
          }),
        );
      assert.equal((await send()).status, 404, 'not configured yet');
      file.replace(JSON.stringify(added));
      const deadline = Date.now() + 15_000;
      let res = await send();
      while (res.status === 404 && Date.now() < deadline) {
        await sleep(200);
        res = await send();
      }
      assert.equal(res.status, 200, JSON.stringify(res.json));
      await oneEventFor(trxId);
    });

    describe('family hmac-token access tokens', () => {
      it('the token endpoint issues a 900 s Bearer token for a genuine request', async () => {
        const { status, json } = await dokuToken(bed);
        assert.equal(status, 200);
        assert.equal(json.responseCode, '2007300');
        assert.equal(json.tokenType, 'Bearer');
        assert.equal(json.expiresIn, '900');
        assert.equal(typeof json.accessToken, 'string');
      });

      it('a token request signed with another key is refused 4017300, counted under snap', async () => {
        // Token requests never reach a notification guard: they count under the provider their
        // path names, not `unknown`.
        const refusedTokens = async () => {
          const text = await (await fetch(`${bed.gateway.managementUrl}/metrics`)).text();
          const line =
            /^gateway_callbacks_total\{provider="snap",account="none",outcome="rejected-auth"\} (\d+)$/m.exec(
              text,
            );
          return line ? Number(line[1]) : 0;
        };
        const before = await refusedTokens();
        const { status, json } = await dokuToken(bed, stranger.privateKey);
        assert.equal(status, 401);
        assert.equal(json.responseCode, '4017300');
        assert.equal(await refusedTokens(), before + 1);
      });

      it('a notification with a token the gateway did not issue is refused 4012500', async () => {
        const trxId = reference('token');
        const body = vaPayment(trxId);
        const headers = snapHeaders({
          family: 'hmac-token',
          signedPath: VA_PATH,
          body,
          token: 'eyJhIjoiZG9rdS1tYWluIiwiZSI6OTk5OTk5OTk5OX0.forged',
          secret: SECRET_B,
        });
        const res = await postSnap(urlOf('doku-main'), body, headers);
        assert.equal(res.status, 401);
        assert.equal(res.json.responseCode, '4012500');
        assert.match(String(res.json.message), /access token is not one the gateway issued/);
        await noEventFor(trxId);
      });
    });
  });
}
