import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountsFile, NO_PROVIDER_ENV, type AccountsFileHandle } from '../support/accounts.js';
import { deleteTopology, EventTap, sleep, uniqueExchange } from '../support/broker.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { type GatewayProcess, spawnGateway } from '../support/gateway-process.js';
import { metricValue, scrape } from '../support/metrics.js';
import { callbackUrl, uniqueRef } from '../support/ppob-sidopulsa.js';

const TOKEN_1 = 'reload-reseller-one-0123456789';
const TOKEN_2 = 'reload-reseller-two-0123456789';
const SECRET_IN_BROKEN_FILE = 'broken-file-secret-token-0123456789';

const ONE_ACCOUNT = `
ppob:
  allowedIps: 127.0.0.1, ::1
  accounts:
    - id: reseller-1
      keys: [{ token: ${TOKEN_1} }]
`;
const TWO_ACCOUNTS = `${ONE_ACCOUNT}    - id: reseller-2
      keys: [{ label: first, token: ${TOKEN_2} }]
`;

async function report(gateway: { url: string }, token: string, ref = uniqueRef('RL')) {
  const res = await fetch(
    callbackUrl(gateway.url, 'ppob', { ref_id: ref, status: 'Success', sn: '77' }, { token }),
  );
  await res.arrayBuffer();
  return { status: res.status, ref };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('reloading the accounts file without a restart', () => {
  let db: TestDatabase;
  let file: AccountsFileHandle;
  let gateway: GatewayProcess;
  let tap: EventTap;
  const exchange = uniqueExchange();

  before(async () => {
    db = await createTestDatabase('postgres');
    file = accountsFile(ONE_ACCOUNT);
    tap = await EventTap.bind(exchange);
    gateway = await spawnGateway({
      ...db.env,
      ...NO_PROVIDER_ENV,
      EVENTS_EXCHANGE: exchange,
      ACCOUNTS_FILE: file.path,
    });
  });
  after(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
    await tap.close();
    await deleteTopology(exchange).catch(() => undefined);
    await db.drop();
    file.remove();
  });

  it('adds an account when the file changes, while a stream of callbacks is accepted (none refused, none lost)', async () => {
    assert.equal((await report(gateway, TOKEN_2)).status, 401, 'not an account yet');
    const sent: string[] = [];
    const answers: number[] = [];
    let stop = false;
    const sender = async () => {
      while (!stop) {
        const { status, ref } = await report(gateway, TOKEN_1);
        answers.push(status);
        sent.push(ref);
      }
    };
    const senders = Array.from({ length: 4 }, sender);
    await sleep(1000);
    file.replace(TWO_ACCOUNTS);
    await until(async () => (await report(gateway, TOKEN_2)).status === 200, 'the new account');
    await sleep(1000);
    stop = true;
    await Promise.all(senders);

    assert.ok(sent.length > 10, `a real stream ran (${sent.length} callbacks)`);
    assert.deepEqual(
      answers.filter((status) => status !== 200),
      [],
      'no callback of the existing account was refused during the reload',
    );
    await tap.waitFor(sent.length + 1, 20_000);
    const subjects = new Set(tap.bodies().map((body) => body.subject as string));
    assert.deepEqual(
      sent.filter((ref) => !subjects.has(ref)),
      [],
      'every acknowledged callback became an event',
    );
    const rows = await db.query<{ account: string; n: string }>(
      `SELECT account, COUNT(*) AS n FROM callbacks WHERE outcome = 'accepted' GROUP BY account ORDER BY account`,
    );
    assert.deepEqual(
      rows.map((r) => [r.account, Number(r.n)]),
      [
        ['reseller-1', sent.length],
        ['reseller-2', 1],
      ],
    );
    assert.match(
      gateway.output(),
      /Accounts file .* reloaded \(changed\): ppob account reseller-2 added \(keys first\)/,
    );
  });

  it('keeps the running accounts when the new file is broken, and reports the problem without secrets', async () => {
    file.replace(`
ppob:
  accounts:
    - id: reseller-3
      keys: [{ token: ${SECRET_IN_BROKEN_FILE}, notAftre: "2030-01-01T00:00:00Z" }]
`);
    await until(
      async () =>
        metricValue(await scrape(gateway.url), 'gateway_accounts_reloads_total', {
          result: 'refused',
        }) === 1,
      'the refused reload',
    );
    // Log lines are JSON: quotes inside the message are escaped.
    await until(
      async () =>
        /ppob account \\"reseller-3\\" keys\[0\]\.notAftre: is not a known field/.test(
          gateway.output(),
        ),
      'the error naming the problem',
    );
    const output = gateway.output();
    assert.match(output, /Accounts file .* not applied \(changed\); the running accounts stay/);
    assert.ok(!output.includes(SECRET_IN_BROKEN_FILE), 'the token is never logged');
    assert.equal((await report(gateway, TOKEN_1)).status, 200);
    assert.equal((await report(gateway, TOKEN_2)).status, 200);
    assert.equal((await report(gateway, SECRET_IN_BROKEN_FILE)).status, 401);
  });

  it('re-reads the file on SIGHUP', async () => {
    // Written in place, as an editor would; SIGHUP is what the operator sends after it.
    file.replace(ONE_ACCOUNT);
    gateway.child.kill('SIGHUP');
    await until(async () => (await report(gateway, TOKEN_2)).status === 401, 'the removal');
    assert.equal((await report(gateway, TOKEN_1)).status, 200);
    await until(
      async () =>
        /reloaded \((SIGHUP|changed)\): ppob account reseller-2 removed/.test(gateway.output()),
      'the reload log line',
    );
    assert.equal(gateway.child.exitCode, null, 'SIGHUP does not stop the gateway');
  });
});

describe('key rotation', () => {
  let bed: TestBed;
  let file: AccountsFileHandle;
  const OLD = 'rotation-old-token-0123456789';
  const NEW = 'rotation-new-token-0123456789';
  const rotation = (notAfter: string | null) => `
ppob:
  allowedIps: 127.0.0.1, ::1
  accounts:
    - id: shop
      keys:
        - { label: "2025", token: ${OLD}${notAfter ? `, notAfter: "${notAfter}"` : ''} }
        - { label: "2026", token: ${NEW}, notBefore: "2020-01-01T00:00:00Z" }
`;
  let retiresAt: Date;

  before(async () => {
    file = accountsFile(rotation(null));
    bed = await createTestBed('postgres', { ...NO_PROVIDER_ENV, ACCOUNTS_FILE: file.path });
    // The operator schedules the old token's retirement a few seconds ahead (start-up time under
    // load is unknown, so the schedule is set once the gateway runs).
    retiresAt = new Date(Date.now() + 6_000);
    file.replace(rotation(retiresAt.toISOString()));
    await until(
      async () =>
        metricValue(await scrape(bed.gateway.url), 'gateway_accounts_reloads_total', {
          result: 'applied',
        }) === 1,
      'the schedule',
    );
  });
  after(async () => {
    await bed.teardown();
    file.remove();
  });

  it('both keys verify during the overlap and the metric shows which; after notAfter the old one gets 401', async () => {
    assert.equal((await report(bed.gateway, OLD)).status, 200);
    assert.equal((await report(bed.gateway, NEW)).status, 200);
    assert.equal((await report(bed.gateway, NEW)).status, 200);
    const during = await scrape(bed.gateway.url);
    const matches = (key: string, text: string) =>
      metricValue(text, 'gateway_credential_matches_total', {
        provider: 'ppob',
        account: 'shop',
        key,
      });
    assert.equal(matches('2025', during), 1);
    assert.equal(matches('2026', during), 2);
    const keys = await bed.db.query<{ credential_key: string }>(
      `SELECT credential_key FROM callbacks WHERE outcome = 'accepted' ORDER BY received_at`,
    );
    assert.deepEqual(
      keys.map((row) => row.credential_key),
      ['2025', '2026', '2026'],
    );

    await sleep(Math.max(0, retiresAt.getTime() - Date.now() + 200));
    const res = await fetch(
      callbackUrl(
        bed.gateway.url,
        'ppob',
        { ref_id: uniqueRef('RT'), status: 'Success' },
        { token: OLD },
      ),
    );
    assert.equal(res.status, 401);
    const { message } = (await res.json()) as { message: string };
    assert.match(
      message,
      /matches key "2025" of account "shop", which is not valid at .* \(notAfter /,
    );
    assert.ok(!message.includes(OLD));
    assert.equal((await report(bed.gateway, NEW)).status, 200, 'the new key still verifies');
    assert.equal(matches('2025', await scrape(bed.gateway.url)), 1, 'the old key matched no more');
  });
});
