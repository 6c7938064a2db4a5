import assert from 'node:assert/strict';
import {
  createHash,
  createHmac,
  createSign,
  createVerify,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  NICEPAY_SNAP_STATUS_PATH,
  NICEPAY_SNAP_TOKEN_PATH,
  SnapSandbox,
} from '../../src/providers/snap/snap.sandbox.js';
import { minifySnapJson, snapTimestamp } from '../../src/providers/snap/snap.sandbox-signing.js';
import {
  ASPI_TRANSACTION_STATUS,
  NICEPAY_SNAP_TRANSACTION_STATUS,
  type SnapProviderIdentity,
} from '../../src/providers/snap/snap.simulator.js';
import { type RunningSandbox, startSandbox } from '../../src/dev/sandbox.js';

/**
 * The sandbox as a SNAP provider, checked against the standard's strings to sign with plain
 * node:crypto (not the sandbox's own signing module), and the NICEPAY SNAP status API checked the
 * way a merchant's client calls it. The gateway's side is tested in test/providers/snap*.
 */

// Answers are read field by field; a missing field fails the assertion that reads it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (secret: string, text: string) =>
  createHmac('sha512', secret).update(text, 'utf8').digest('base64');
const verifies = (key: KeyObject, text: string, signature: string) =>
  createVerify('RSA-SHA256').update(text, 'utf8').verify(key, Buffer.from(signature, 'base64'));

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A merchant endpoint that records what it receives; issues tokens to family B providers. */
async function startMerchant(tokenCheck: (req: Received) => boolean) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      received.push(entry);
      res.setHeader('content-type', 'application/json');
      if (entry.path.endsWith('/v1.0/access-token/b2b')) {
        if (!tokenCheck(entry)) {
          res.statusCode = 401;
          res.end(JSON.stringify({ responseCode: '4017300', responseMessage: 'Unauthorized' }));
          return;
        }
        res.end(
          JSON.stringify({
            responseCode: '2007300',
            responseMessage: 'Successful',
            accessToken: 'merchant-issued-token-1',
            tokenType: 'Bearer',
            expiresIn: '900',
          }),
        );
        return;
      }
      res.end(JSON.stringify({ responseCode: '2002500', responseMessage: 'Successful' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('SNAP sandbox: notifications per family, signed as the standard says', () => {
  const providerA = rsa();
  const providerB = rsa();
  const providerC = rsa();
  const merchantA = rsa();
  const base = {
    channelId: '95221',
    partnerServiceId: '88899',
    statusTable: ASPI_TRANSACTION_STATUS,
  };
  const identities: SnapProviderIdentity[] = [
    {
      ...base,
      account: 'np',
      family: 'rsa-clientkey',
      partnerId: 'IONPAYTEST',
      clientKey: 'IONPAYTEST',
      privateKey: providerA.privateKey,
      services: ['25'],
      statusTable: NICEPAY_SNAP_TRANSACTION_STATUS,
    },
    {
      ...base,
      account: 'dk',
      family: 'hmac-token',
      partnerId: 'BRN-1',
      clientKey: 'BRN-1',
      privateKey: providerB.privateKey,
      clientSecret: 'doku-secret',
      signedPathPrefix: '/payments/snap/dk',
      services: ['25', '34', '56'],
    },
    {
      ...base,
      account: 'mt',
      family: 'rsa-body',
      partnerId: 'G1',
      clientKey: 'G1',
      privateKey: providerC.privateKey,
      services: ['25', '52', '56'],
    },
    {
      ...base,
      account: 'ifp',
      family: 'hmac-notifyurl',
      partnerId: 'IFP1',
      clientKey: 'IFP1',
      clientSecret: 'ifp-secret',
      version: '1.0',
      notifyUrlBase: 'https://shop.example/hooks/ifp',
      services: ['25', '52'],
    },
  ];
  let merchant: Awaited<ReturnType<typeof startMerchant>>;
  let running: RunningSandbox;
  let snap: SnapSandbox;

  before(async () => {
    merchant = await startMerchant((req) => {
      const clientKey = String(req.headers['x-client-key']);
      const timestamp = String(req.headers['x-timestamp']);
      return (
        clientKey === 'BRN-1' &&
        JSON.parse(req.body).grantType === 'client_credentials' &&
        verifies(
          providerB.publicKey,
          `${clientKey}|${timestamp}`,
          String(req.headers['x-signature']),
        )
      );
    });
    running = await startSandbox({
      gatewayUrl: merchant.url,
      providers: [
        (context) =>
          new SnapSandbox(context, {
            providers: identities,
            statusApiMerchants: [
              {
                account: 'np',
                clientKey: 'IONPAYTEST',
                partnerId: 'IONPAYTEST',
                publicKey: merchantA.publicKey,
                clientSecret: 'np-client-secret',
              },
            ],
          }),
      ],
    });
    snap = running.provider<SnapSandbox>('snap');
  });
  after(async () => {
    await running.close();
    await merchant.close();
  });

  const last = () => merchant.received.at(-1)!;
  const header = (r: Received, name: string) => String(r.headers[name]);

  it('common headers: X-TIMESTAMP in +07:00, X-PARTNER-ID, X-EXTERNAL-ID unique, CHANNEL-ID; VA body per ASPI', async () => {
    const first = await snap.create({ account: 'mt', service: '25', reference: 'INV-1' });
    assert.equal(first.gatewayStatus, 200);
    const one = last();
    await snap.create({ account: 'mt', service: '25' });
    const two = last();
    assert.match(header(one, 'x-timestamp'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/);
    assert.ok(Math.abs(Date.parse(header(one, 'x-timestamp')) - Date.now()) < 60_000);
    assert.equal(header(one, 'x-partner-id'), 'G1');
    assert.equal(header(one, 'channel-id'), '95221');
    assert.match(header(one, 'x-external-id'), /^\d{18}$/);
    assert.notEqual(header(one, 'x-external-id'), header(two, 'x-external-id'));
    assert.equal(one.path, '/callbacks/snap/mt/v1.0/transfer-va/payment');
    const body = JSON.parse(one.body);
    assert.equal(body.partnerServiceId, '   88899');
    assert.equal(body.partnerServiceId.length, 8);
    assert.equal(body.virtualAccountNo, `${body.partnerServiceId}${body.customerNo}`);
    assert.deepEqual(body.paidAmount, { value: '10000.00', currency: 'IDR' });
    assert.equal(body.trxId, 'INV-1');
    assert.equal(body.paymentRequestId, first.key);
    assert.match(body.trxDateTime, /\+07:00$/);
    assert.equal(one.body, minifySnapJson(one.body), 'sent minified by default');
  });

  it('A rsa-clientkey: X-SIGNATURE = SHA256withRSA(X-CLIENT-KEY|X-TIMESTAMP), body not signed', async () => {
    await snap.create({ account: 'np', reference: 'INV-A' });
    const r = last();
    const text = `${header(r, 'x-client-key')}|${header(r, 'x-timestamp')}`;
    assert.equal(header(r, 'x-client-key'), 'IONPAYTEST');
    assert.ok(verifies(providerA.publicKey, text, header(r, 'x-signature')));
    assert.ok(
      !verifies(providerC.publicKey, text, header(r, 'x-signature')),
      'another key verifies',
    );
  });

  it('B hmac-token: asks the merchant for a token (RSA clientId|X-TIMESTAMP), then HMAC-SHA512 over POST:path:token:bodyHash:ts', async () => {
    const before = merchant.received.length;
    const made = await snap.create({ account: 'dk', service: '56', reference: 'INV-B' });
    assert.equal(made.gatewayStatus, 200);
    const [token, note] = merchant.received.slice(before);
    assert.equal(token.path, '/callbacks/snap/dk/v1.0/access-token/b2b');
    assert.equal(note.path, '/callbacks/snap/dk/v1.0/debit/notify');
    assert.equal(header(note, 'authorization'), 'Bearer merchant-issued-token-1');
    const text = `POST:/payments/snap/dk/v1.0/debit/notify:merchant-issued-token-1:${sha256(note.body)}:${header(note, 'x-timestamp')}`;
    assert.equal(header(note, 'x-signature'), hmac('doku-secret', text));
    assert.equal(JSON.parse(note.body).originalPartnerReferenceNo, 'INV-B');
    assert.equal(JSON.parse(note.body).latestTransactionStatus, '00');
    // The token is kept while valid: the next notification does not ask again.
    await snap.create({ account: 'dk', service: '34' });
    assert.equal(merchant.received.length, before + 3);
  });

  it('C rsa-body: SHA256withRSA over POST:path:bodyHash:X-TIMESTAMP', async () => {
    await snap.create({ account: 'mt', service: '52', reference: 'INV-C' });
    const r = last();
    assert.equal(r.path, '/callbacks/snap/mt/v1.0/qr/qr-mpm-notify');
    const text = `POST:${r.path}:${sha256(r.body)}:${header(r, 'x-timestamp')}`;
    assert.ok(verifies(providerC.publicKey, text, header(r, 'x-signature')));
    assert.equal(JSON.parse(r.body).originalPartnerReferenceNo, 'INV-C');
  });

  it('D hmac-notifyurl: HMAC-SHA512 over notifyUrl:X-VERSION:bodyHash:X-TIMESTAMP', async () => {
    await snap.create({ account: 'ifp', service: '52', reference: 'INV-D', status: 'failed' });
    const r = last();
    assert.equal(header(r, 'x-version'), '1.0');
    const text = `https://shop.example/hooks/ifp/v1.0/qr/qr-mpm-notify:1.0:${sha256(r.body)}:${header(r, 'x-timestamp')}`;
    assert.equal(header(r, 'x-signature'), hmac('ifp-secret', text));
    assert.equal(JSON.parse(r.body).latestTransactionStatus, '06');
  });

  it('variants: spaces inside strings and \\u escapes survive, a pretty body signs its minified hash, another signed path', async () => {
    const held = await snap.create({ account: 'mt', service: '25', send: false });
    const spaced = await snap.notification(held.key, { spacesInStrings: true, layout: 'pretty' });
    assert.match(spaced.body!, /\n {2}"partnerServiceId"/, 'pretty');
    assert.match(spaced.body!, /"virtualAccountName": " {2}Budi {3}Santoso {2}"/);
    const minified = minifySnapJson(spaced.body!);
    assert.match(
      minified,
      /"virtualAccountName":" {2}Budi {3}Santoso {2}"/,
      'spaces inside strings kept',
    );
    assert.match(minified, /"partnerServiceId":" {3}88899"/);
    const text = `POST:${spaced.path}:${sha256(minified)}:${spaced.headers['x-timestamp']}`;
    assert.ok(verifies(providerC.publicKey, text, spaced.headers['x-signature']));

    const escaped = await snap.notification(held.key, { unicodeEscapes: true });
    assert.ok(escaped.body!.includes('"Jos\\u00e9 M\\u00fcller"'), escaped.body);
    assert.equal(JSON.parse(escaped.body!).virtualAccountName, 'José Müller');
    const escapedText = `POST:${escaped.path}:${sha256(escaped.body!)}:${escaped.headers['x-timestamp']}`;
    assert.ok(verifies(providerC.publicKey, escapedText, escaped.headers['x-signature']));

    const ingress = await snap.notification(held.key, {
      signedPath: '/public/v1.0/transfer-va/payment',
    });
    assert.equal(ingress.path, '/callbacks/snap/mt/v1.0/transfer-va/payment');
    const ingressText = `POST:/public/v1.0/transfer-va/payment:${sha256(ingress.body!)}:${ingress.headers['x-timestamp']}`;
    assert.ok(verifies(providerC.publicKey, ingressText, ingress.headers['x-signature']));
  });

  it('control API: creates for an account and service; refuses an unknown account or status', async () => {
    const post = (body: unknown) =>
      fetch(`${running.url}/sandbox/snap/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await post({ account: 'ifp', service: '25', reference: 'CTL-1' });
    assert.equal(created.status, 201);
    const json = (await created.json()) as Json;
    assert.equal(json.gatewayStatus, 200);
    assert.equal(json.transaction.reference, 'CTL-1');
    assert.equal(last().path, '/callbacks/snap/ifp/v1.0/transfer-va/payment');
    const unknown = await post({ account: 'nope' });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { message: string }).message, /no account nope/);
    const badStatus = await post({ account: 'np', status: 'refunded' });
    assert.equal(badStatus.status, 400);
    assert.match(
      ((await badStatus.json()) as { message: string }).message,
      /00 \(succeeded\), 03 \(pending\), 04 \(expired\)/,
    );
    const service = await post({ account: 'np', service: '52' });
    assert.equal(service.status, 400);
  });

  describe('NICEPAY SNAP status API', () => {
    /** The merchant's side, written from the nicepay-dev SDK docs. */
    async function token(
      privateKey: KeyObject = merchantA.privateKey,
      timestamp = snapTimestamp(),
    ) {
      const signature = createSign('RSA-SHA256')
        .update(`IONPAYTEST|${timestamp}`)
        .sign(privateKey, 'base64');
      const response = await fetch(`${running.url}${NICEPAY_SNAP_TOKEN_PATH}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-client-key': 'IONPAYTEST',
          'x-timestamp': timestamp,
          'x-signature': signature,
        },
        body: JSON.stringify({ grantType: 'client_credentials', additionalInfo: {} }),
      });
      return { status: response.status, body: (await response.json()) as Json };
    }
    async function inquire(
      accessToken: string,
      request: Record<string, unknown>,
      change: { secret?: string; timestamp?: string; partnerId?: string } = {},
    ) {
      const body = JSON.stringify(request);
      const timestamp = change.timestamp ?? snapTimestamp();
      const signature = hmac(
        change.secret ?? 'np-client-secret',
        `POST:${NICEPAY_SNAP_STATUS_PATH}:${accessToken}:${sha256(body)}:${timestamp}`,
      );
      const response = await fetch(`${running.url}${NICEPAY_SNAP_STATUS_PATH}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${accessToken}`,
          'x-timestamp': timestamp,
          'x-signature': signature,
          'x-partner-id': change.partnerId ?? 'IONPAYTEST',
          'x-external-id': `${Date.now()}${Math.floor(Math.random() * 1e6)}`,
          'channel-id': 'IONPAYTEST',
        },
        body,
      });
      return { status: response.status, body: (await response.json()) as Json };
    }
    const requestOf = (tx: {
      partnerServiceId: string;
      customerNo: string;
      providerReference: string;
      reference: string;
      amount: string;
    }) => ({
      partnerServiceId: tx.partnerServiceId,
      customerNo: tx.customerNo,
      virtualAccountNo: `${tx.partnerServiceId}${tx.customerNo}`,
      inquiryRequestId: 'inq-1',
      additionalInfo: {
        totalAmount: { value: tx.amount, currency: 'IDR' },
        trxId: tx.reference,
        tXidVA: tx.providerReference,
      },
    });

    it('token for the merchant RSA signature (2007300, 900 s); another key, an unknown client or a skewed time: 401 4017300', async () => {
      const ok = await token();
      assert.equal(ok.status, 200);
      assert.equal(ok.body.responseCode, '2007300');
      assert.equal(ok.body.tokenType, 'Bearer');
      assert.equal(ok.body.expiresIn, '900');
      assert.ok(ok.body.accessToken.length >= 32);
      const forged = await token(rsa().privateKey);
      assert.deepEqual([forged.status, forged.body.responseCode], [401, '4017300']);
      const skewed = await token(
        merchantA.privateKey,
        snapTimestamp(new Date(Date.now() - 10 * 60_000)),
      );
      assert.deepEqual([skewed.status, skewed.body.responseCode], [401, '4017300']);
    });

    it('a paid notification and the inquiry agree: 2002600, latestTransactionStatus 00, paidAmount', async () => {
      const held = await snap.create({ account: 'np', reference: 'NP-PAID' });
      assert.equal(held.gatewayStatus, 200);
      const { accessToken } = (await token()).body;
      const answer = await inquire(accessToken, requestOf(held.transaction));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.responseCode, '2002600');
      const data = answer.body.virtualAccountData;
      assert.equal(data.additionalInfo.latestTransactionStatus, '00');
      assert.deepEqual(data.paidAmount, { value: '10000.00', currency: 'IDR' });
      assert.equal(data.trxId, 'NP-PAID');
      assert.equal(data.virtualAccountNo, `   88899${held.transaction.customerNo}`);
      assert.equal(snap.get(held.key)!.inquiries, 1);
    });

    it('a test can make them disagree: pending 03 / expired 04 without a notification', async () => {
      const held = await snap.create({ account: 'np', reference: 'NP-LATER' });
      const moved = await snap.update(held.key, { status: 'pending', send: false });
      assert.equal(moved.callback, null, 'a pending VA is not notified');
      const { accessToken } = (await token()).body;
      const pending = await inquire(accessToken, requestOf(held.transaction));
      assert.equal(pending.body.virtualAccountData.additionalInfo.latestTransactionStatus, '03');
      assert.deepEqual(pending.body.virtualAccountData.paidAmount, {
        value: '0.00',
        currency: 'IDR',
      });
      await snap.update(held.key, { status: '04', send: false });
      const expired = await inquire(accessToken, requestOf(held.transaction));
      assert.equal(expired.body.virtualAccountData.additionalInfo.latestTransactionStatus, '04');
    });

    it('refuses: unknown or expired token 4012601, wrong secret / partner / skew 4012600, unknown transaction 4042601', async () => {
      const held = await snap.create({ account: 'np', send: false });
      const request = requestOf(held.transaction);
      const { accessToken } = (await token()).body;
      const codes = async (answer: Promise<{ status: number; body: Json }>) => {
        const { status, body } = await answer;
        return [status, body.responseCode];
      };
      assert.deepEqual(await codes(inquire('not-a-token', request)), [401, '4012601']);
      assert.deepEqual(await codes(inquire(accessToken, request, { secret: 'wrong' })), [
        401,
        '4012600',
      ]);
      assert.deepEqual(await codes(inquire(accessToken, request, { partnerId: 'OTHER' })), [
        401,
        '4012600',
      ]);
      assert.deepEqual(
        await codes(
          inquire(accessToken, request, {
            timestamp: snapTimestamp(new Date(Date.now() + 9 * 60_000)),
          }),
        ),
        [401, '4012600'],
      );
      assert.deepEqual(
        await codes(
          inquire(accessToken, { ...request, additionalInfo: { tXidVA: 'IONPAYTEST0000' } }),
        ),
        [404, '4042601'],
      );
      assert.deepEqual(await codes(inquire(accessToken, request)), [200, '2002600']);
      snap.expireIssuedTokens();
      assert.deepEqual(await codes(inquire(accessToken, request)), [401, '4012601']);
    });
  });
});
