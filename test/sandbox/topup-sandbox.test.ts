import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/gateway-config.js';
import { PpobOrderClient, ppobAuthHeaders } from '../../src/providers/ppob/ppob.orders.js';
import { ppobDatetime, ppobSignature } from '../../src/providers/ppob/ppob.signature.js';
import { SidopulsaOrderClient } from '../../src/providers/sidopulsa/sidopulsa.orders.js';
import { type PpobSandbox, ppobSandbox } from '../../src/providers/ppob/ppob.sandbox.js';
import {
  type SidopulsaSandbox,
  sidopulsaSandbox,
  type SidopulsaSandboxOptions,
} from '../../src/providers/sidopulsa/sidopulsa.sandbox.js';
import type { PlacementResult, TopupOrderRequest } from '../../src/topups/topup-order-client.js';
import { sleep } from '../support/broker.js';
import { uniqueRef } from '../support/ppob-sidopulsa.js';
import { type RunningSandbox, startSandbox } from '../../src/dev/sandbox.js';

const PPOB_ACCOUNT = { username: 'partner-01', token: 'ppob-api-token-0123456789' };
const SIDOPULSA_ACCOUNT = { apiUser: 'reseller01', apiKey: 'sidopulsa-api-key-abcdef' };

function order(overrides: Partial<TopupOrderRequest> = {}): TopupOrderRequest {
  return {
    account: 'default',
    reference: uniqueRef('R'),
    product: 'S10',
    destination: '08123214214',
    inquiryId: null,
    ...overrides,
  };
}

const within = (ms: number) => AbortSignal.timeout(ms);

function answered(result: PlacementResult) {
  assert.equal(result.kind, 'answered', JSON.stringify(result));
  return result as Extract<PlacementResult, { kind: 'answered' }>;
}

describe('PPOB request signing (seed 003 §1.1)', () => {
  it('writes Gw-datetime as Asia/Jakarta wall clock YYYY-mm-DD HH:MM:SS', () => {
    // The document's example time 2024-05-26 08:34:56 in Jakarta is 01:34:56 UTC.
    assert.equal(ppobDatetime(new Date('2024-05-26T01:34:56.000Z')), '2024-05-26 08:34:56');
    assert.equal(ppobDatetime(new Date('2024-12-31T17:00:00.000Z')), '2025-01-01 00:00:00');
  });

  it('signs with lowercase hex SHA-256(username + datetime + token)', () => {
    const expected = createHash('sha256')
      .update('User 1' + '2024-05-26 08:34:56' + 'secret-token')
      .digest('hex');
    assert.equal(ppobSignature('User 1', '2024-05-26 08:34:56', 'secret-token'), expected);
    // Vector computed once with `printf '%s' 'User 12024-05-26 08:34:56secret-token' | sha256sum`.
    assert.equal(expected, '4ef78732e73e2cc4228a0bffeedbcc8cc691659ea62004c35329ff87af9fb649');
    const headers = ppobAuthHeaders(
      { url: 'http://x', username: 'User 1', token: 'secret-token' },
      new Date('2024-05-26T01:34:56.000Z'),
    );
    assert.deepEqual(headers, {
      'Gw-username': 'User 1',
      'Gw-datetime': '2024-05-26 08:34:56',
      'Gw-signature': expected,
    });
  });
});

describe('the PPOB server sandbox, through the gateway client over HTTP', () => {
  let host: RunningSandbox;
  let sandbox: PpobSandbox;
  let reports: Server;
  const received: string[] = [];
  const slowFirst = new Set<string>();

  before(async () => {
    host = await startSandbox({
      providers: [
        ppobSandbox({
          ...PPOB_ACCOUNT,
          callbackToken: 'ppob-callback-token-0123456789',
          reportDelayMs: 50,
          answerDelayMs: (ref, attempt) => (slowFirst.has(ref) && attempt === 1 ? 600 : 0),
        }),
      ],
    });
    sandbox = host.provider<PpobSandbox>('ppob');
    reports = createServer((req, res) => {
      received.push(req.url ?? '');
      res.end('OK');
    });
    await new Promise<void>((resolve) => reports.listen(0, '127.0.0.1', resolve));
    host.setGatewayUrl(`http://127.0.0.1:${(reports.address() as AddressInfo).port}`);
  });
  after(async () => {
    await host.close();
    reports.close();
  });

  const client = (token = PPOB_ACCOUNT.token) =>
    new PpobOrderClient(
      loadConfig({
        PPOB_API_URL: host.url,
        PPOB_USERNAME: PPOB_ACCOUNT.username,
        PPOB_API_TOKEN: token,
      }),
    );

  it('takes a signed order (Waiting → topup pending, keyed by refid) and reports Success with a serial number', async () => {
    const o = order();
    const result = answered(await client().place(o, within(5_000)));
    assert.equal(result.accountError, undefined);
    assert.equal(result.transaction.status, 'pending');
    assert.equal(result.transaction.providerStatus, 'Waiting');
    assert.equal(result.transaction.merchantReference, o.reference);
    assert.equal(result.transaction.identifiedBy, 'merchantReference');
    assert.equal(result.transaction.raw.message, 'request trx diterima');
    assert.equal(result.exchange.path, '/trx/topup');
    assert.equal(result.exchange.httpStatus, 200);

    const deadline = Date.now() + 3_000;
    while (!received.some((u) => u.includes(`ref_id=${o.reference}`)) && Date.now() < deadline)
      await sleep(20);
    const report = new URL(
      received.find((u) => u.includes(`ref_id=${o.reference}`))!,
      'http://x',
    );
    assert.equal(report.pathname, '/callbacks/ppob/ppob-callback-token-0123456789');
    assert.equal(report.searchParams.get('status'), 'Success');
    assert.equal(report.searchParams.get('code'), 'S10');
    assert.equal(report.searchParams.get('destination'), '08123214214');
    assert.match(report.searchParams.get('sn') ?? '', /^\d{16}$/);
  });

  it('answers a refid sent again with that transaction ("trx sebelumnya ditemukan") and creates nothing', async () => {
    const o = order();
    const first = answered(await client().place(o, within(5_000)));
    const again = answered(await client().place(o, within(5_000)));
    assert.equal(again.transaction.raw.message, 'trx sebelumnya ditemukan');
    assert.equal(again.transaction.raw.trx_id, first.transaction.raw.trx_id);
    assert.equal(sandbox.orders().filter((t) => t.refid === o.reference).length, 1);
  });

  it('a wrong PPOB_API_TOKEN is refused (401): an account error with the server reason', async () => {
    const o = order();
    const result = answered(await client('wrong-token').place(o, within(5_000)));
    assert.equal(result.transaction.status, 'failed');
    assert.deepEqual(result.accountError, {
      code: '401',
      reason: 'PPOB refused the request: Gw-signature tidak valid',
    });
    assert.equal(sandbox.orders().filter((t) => t.refid === o.reference).length, 0);
  });

  it('refuses a datetime in another format, a stale one and missing headers', async () => {
    const send = (headers: Record<string, string>) =>
      fetch(`${host.url}/trx/topup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ code: 'S10', dest: '08123214214', refid: uniqueRef('D') }),
      });
    const iso = new Date().toISOString();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        {
          'Gw-username': PPOB_ACCOUNT.username,
          'Gw-datetime': iso,
          'Gw-signature': ppobSignature(PPOB_ACCOUNT.username, iso, PPOB_ACCOUNT.token),
        },
        /format Gw-datetime/,
      ],
      [
        ppobAuthHeaders({ url: '', ...PPOB_ACCOUNT }, new Date(Date.now() - 3_600_000)),
        /terlalu jauh/,
      ],
      [{ 'Gw-username': PPOB_ACCOUNT.username }, /wajib/],
    ];
    for (const [headers, message] of cases) {
      const res = await send(headers);
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { message: string }).message, message);
    }
  });

  it('an unknown product is answered Failed (an order-level failure, no account error)', async () => {
    const result = answered(await client().place(order({ product: 'NOPE1' }), within(5_000)));
    assert.equal(result.transaction.status, 'failed');
    assert.equal(result.transaction.providerStatus, 'Failed');
    assert.equal(result.accountError, undefined);
  });

  it('a timed-out request is a retry; resending the same refid finds the one transaction', async () => {
    const o = order();
    slowFirst.add(o.reference);
    const first = await client().place(o, within(150));
    assert.equal(first.kind, 'retry');
    assert.match((first as { reason: string }).reason, /timed out/);
    const second = answered(await client().place(o, within(5_000)));
    assert.equal(second.transaction.raw.message, 'trx sebelumnya ditemukan');
    assert.equal(sandbox.orders().filter((t) => t.refid === o.reference).length, 1);
  });

  it('postpaid: an inquiry (INQ product) then /trx/payment with its trx_id as inq_id', async () => {
    const inquiry = answered(await client().place(order({ product: 'INQPLN' }), within(5_000)));
    const inquiryId = String(inquiry.transaction.raw.trx_id);
    const payment = answered(
      await client().place(order({ product: null, destination: null, inquiryId }), within(5_000)),
    );
    assert.equal(payment.exchange.path, '/trx/payment');
    assert.equal(payment.transaction.status, 'pending');
  });
});

describe('the Sidopulsa sandbox, through the gateway client over HTTP', () => {
  let host: RunningSandbox;
  let sandbox: SidopulsaSandbox;
  let poor: RunningSandbox;
  let fenced: RunningSandbox;

  before(async () => {
    const play = (options: Partial<SidopulsaSandboxOptions>) =>
      startSandbox({
        providers: [sidopulsaSandbox({ ...SIDOPULSA_ACCOUNT, callbackToken: null, ...options })],
      });
    host = await play({ reportDelayMs: 60_000 });
    sandbox = host.provider<SidopulsaSandbox>('sidopulsa');
    poor = await play({ balance: 1_000 });
    fenced = await play({ allowedIps: ['203.0.113.7'] });
  });
  after(async () => {
    await Promise.all([host.close(), poor.close(), fenced.close()]);
  });

  const client = (url: string, credentials: Partial<typeof SIDOPULSA_ACCOUNT> = {}) => {
    const c = { ...SIDOPULSA_ACCOUNT, ...credentials };
    return new SidopulsaOrderClient(
      loadConfig({
        SIDOPULSA_API_URL: url,
        SIDOPULSA_API_USER: c.apiUser,
        SIDOPULSA_API_KEY: c.apiKey,
      }),
    );
  };

  it('takes an order: rc 01 pending, price as a decimal string, identified by ref_id; never stores the query', async () => {
    const o = order({ product: 'TT5', destination: '081299999999' });
    const result = answered(await client(host.url).place(o, within(5_000)));
    assert.equal(result.transaction.status, 'pending');
    assert.equal(result.transaction.providerStatus, 'pending');
    assert.equal(result.transaction.amount, '9000');
    assert.equal(result.transaction.identifiedBy, 'merchantReference');
    assert.equal(result.exchange.path, '/h2h/api/trx');
    assert.ok(
      !JSON.stringify(result).includes(SIDOPULSA_ACCOUNT.apiKey),
      'no api key in the result',
    );
  });

  it('rc 08 for a ref_id already submitted means pending (the order is there), whatever its status says', async () => {
    const o = order({ destination: '081299999999' });
    answered(await client(host.url).place(o, within(5_000)));
    const again = answered(await client(host.url).place(o, within(5_000)));
    assert.equal(again.transaction.raw.rc, '08');
    assert.equal(again.transaction.raw.status, 'gagal');
    assert.equal(again.transaction.status, 'pending');
    assert.equal(sandbox.orders().filter((t) => t.refId === o.reference).length, 1);
  });

  it('account-level refusals (rc 03, 04, 06, 07) are account errors; order-level ones (05, 09) only fail the order', async () => {
    const cases: Array<[string, Promise<PlacementResult>, boolean]> = [
      ['03', client(host.url, { apiKey: 'wrong' }).place(order(), within(5_000)), true],
      ['04', client(host.url, { apiUser: 'nobody' }).place(order(), within(5_000)), true],
      ['06', client(poor.url).place(order({ destination: '081299999999' }), within(5_000)), true],
      ['07', client(fenced.url).place(order({ destination: '081299999999' }), within(5_000)), true],
      [
        '05',
        client(host.url).place(
          order({ product: 'XX1', destination: '081299999999' }),
          within(5_000),
        ),
        false,
      ],
      ['09', client(host.url).place(order({ destination: '0812' }), within(5_000)), false],
    ];
    for (const [rc, pending, account] of cases) {
      const result = answered(await pending);
      assert.equal(result.transaction.raw.rc, rc);
      assert.equal(result.transaction.status, 'failed', `rc ${rc}`);
      assert.equal(result.accountError !== undefined, account, `rc ${rc} account-level`);
      if (account) assert.match(result.accountError!.reason, new RegExp(`^Sidopulsa rc ${rc}: `));
    }
  });
});
