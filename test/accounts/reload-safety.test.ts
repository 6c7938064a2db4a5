/**
 * A reload never de-authorizes by accident: an empty accounts file (truncate-then-write, a mount
 * caught half-way) is refused, so is a file that removes every account of a provider that had
 * some unless the file lists it under `removeAllAccounts`; every removal is logged at warn.
 */
import assert from 'node:assert/strict';
import { truncateSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { accountsFile, NO_PROVIDER_ENV, type AccountsFileHandle } from '../support/accounts.js';
import { sleep } from '../support/broker.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { type GatewayProcess, spawnGateway } from '../support/gateway-process.js';
import { metricValue, scrape } from '../support/metrics.js';
import { callbackUrl, uniqueRef } from '../support/ppob-sidopulsa.js';
import { readAccountsFile } from '../../src/config/accounts-file.js';

const TOKEN_1 = 'safety-reseller-one-0123456789';
const TOKEN_2 = 'safety-reseller-two-0123456789';
const account = (id: string, token: string) =>
  `    - id: ${id}\n      keys: [{ token: ${token} }]\n`;
const PPOB = (...accounts: string[]) =>
  `ppob:\n  allowedIps: 127.0.0.1, ::1\n  accounts:\n${accounts.join('')}`;
const SIDOPULSA = `sidopulsa:\n  allowedIps: 127.0.0.1, ::1\n  accounts:\n${account('s-1', 'safety-sidopulsa-0123456789')}`;

async function status(gateway: { url: string }, token: string): Promise<number> {
  const res = await fetch(
    callbackUrl(gateway.url, 'ppob', { ref_id: uniqueRef('RS'), status: 'Success' }, { token }),
  );
  await res.arrayBuffer();
  return res.status;
}

/** Log lines are JSON: one per line; the level of the first whose message matches. */
function levelOf(output: string, message: RegExp): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { level: number; msg?: string };
    if (entry.msg && message.test(entry.msg)) return entry.level;
  }
  return undefined;
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('reloading the accounts file safely', () => {
  let db: TestDatabase;
  let file: AccountsFileHandle;
  let gateway: GatewayProcess;
  const refused = async () =>
    metricValue(await scrape(gateway.url), 'gateway_accounts_reloads_total', {
      result: 'refused',
    }) || 0;

  before(async () => {
    db = await createTestDatabase('postgres');
    file = accountsFile(`${PPOB(account('r-1', TOKEN_1), account('r-2', TOKEN_2))}${SIDOPULSA}`);
    gateway = await spawnGateway({ ...db.env, ...NO_PROVIDER_ENV, ACCOUNTS_FILE: file.path });
  });
  after(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
    await db.drop();
    file.remove();
  });

  it('refuses an empty file (read as it is being written) and keeps every account', async () => {
    assert.match(readAccountsFile(file.path).problems.join(), /^$/);
    for (const text of ['', '\n  \n', '# only a comment\n']) {
      const before = await refused();
      if (text === '') truncateSync(file.path, 0);
      else file.replace(text);
      await until(
        async () => (await refused()) === before + 1,
        `the refused reload of ${JSON.stringify(text)}`,
      );
      assert.equal(await status(gateway, TOKEN_1), 200, 'the running accounts stay');
    }
    // Log lines are written in batches: wait for them.
    await until(() => /is empty \(no providers, not even \{\}\)/.test(gateway.output()), 'the log');
  });

  it('refuses a file that removes every account of a provider, applies it when the file allows it', async () => {
    const before = await refused();
    file.replace(SIDOPULSA);
    await until(async () => (await refused()) === before + 1, 'the refused reload');
    await until(() => /it removes every account of ppob/.test(gateway.output()), 'the log');
    assert.equal(await status(gateway, TOKEN_2), 200);

    file.replace(`removeAllAccounts: [ppob]\n${SIDOPULSA}`);
    await until(async () => (await status(gateway, TOKEN_1)) !== 200, 'ppob accounts removed');
    const removed = /reloaded \(changed\): .*ppob account r-1 removed/;
    await until(() => removed.test(gateway.output()), 'the removal logged');
    assert.equal(levelOf(gateway.output(), removed), 40, 'logged at warn');
  });

  it('logs the removal of one account at warn, an addition at info', async () => {
    file.replace(`${PPOB(account('r-1', TOKEN_1), account('r-2', TOKEN_2))}${SIDOPULSA}`);
    await until(async () => (await status(gateway, TOKEN_2)) === 200, 'ppob accounts back');
    file.replace(`${PPOB(account('r-1', TOKEN_1))}${SIDOPULSA}`);
    await until(async () => (await status(gateway, TOKEN_2)) !== 200, 'r-2 removed');
    const alone = /reloaded \(changed\): ppob account r-2 removed$/;
    await until(() => levelOf(gateway.output(), alone) !== undefined, 'the log');
    const output = gateway.output();
    assert.equal(levelOf(output, alone), 40);
    assert.equal(levelOf(output, /ppob account r-1 added/), 30);
  });
});
