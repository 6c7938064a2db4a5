import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerAccountSection } from '../../src/config/account-sections.js';
import { emptiedProviders } from '../../src/config/accounts-reloader.js';
import { allowlistsByProvider, describeChanges } from '../../src/config/accounts.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import { registerProviderAccounts } from '../../src/providers/index.js';
import { NO_PROVIDER_ENV } from '../support/accounts.js';
import { problemsOf } from '../support/config.js';
import type { AcmeAccount } from '../fixtures/acme-provider/acme.accounts.js';
import { ACME_PLUGIN } from '../fixtures/acme-provider/acme.plugin.js';

/**
 * Issue 27: a sixth provider whose credentials have a shape of their own declares its account
 * section in its folder (test/fixtures/acme-provider/ plays that folder) and is registered the way
 * src/providers/index.ts registers the real plugins; configuration is not edited.
 */

const dir = mkdtempSync(join(tmpdir(), 'provider-section-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function file(text: string): string {
  const path = join(dir, `accounts-${++counter}.yaml`);
  writeFileSync(path, text);
  return path;
}

const ACME = `
acme:
  allowedIps: 10.1.0.0/16
  accounts:
    - id: shop-a
      merchantId: M200
      keys:
        - label: old
          signingSecret: acme-secret-old
          notAfter: "2026-03-01T00:00:00Z"
        - label: new
          signingSecret: acme-secret-new
    - id: shop-b
      merchantId: M300
      allowedIps: [192.0.2.7]
      keys: [{ signingSecret: acme-secret-b }]
`;

it('is refused before the plugin registers it: the file may not name an unknown provider', () => {
  const path = file(ACME);
  assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: path }), [
    `${path}: acme: is not a known field (check its spelling)`,
  ]);
});

describe('a provider account section registered by a plugin', () => {
  before(() => registerProviderAccounts([ACME_PLUGIN]));

  it('reads its environment account and its file section into providers.extra', () => {
    const environment = { ACME_MERCHANT_ID: 'M100', ACME_SIGNING_SECRET: 'acme-secret-env' };
    const config = loadConfig({ ...NO_PROVIDER_ENV, ...environment, ACCOUNTS_FILE: file(ACME) });
    const acme = config.providers.extra.get('acme');
    assert.ok(acme);
    assert.deepEqual(acme.allowlist?.entries, ['10.1.0.0/16']);
    const accounts = acme.accounts as AcmeAccount[];
    assert.deepEqual(
      accounts.map(({ id, merchantId, source }) => ({ id, merchantId, source })),
      [
        { id: 'default', merchantId: 'M100', source: 'environment' },
        { id: 'shop-a', merchantId: 'M200', source: config.accounts.file },
        { id: 'shop-b', merchantId: 'M300', source: config.accounts.file },
      ],
    );
    assert.deepEqual(accounts[0].keys, [
      { label: '1', notBefore: null, notAfter: null, signingSecret: 'acme-secret-env' },
    ]);
    assert.deepEqual(accounts[1].keys, [
      {
        label: 'old',
        notBefore: null,
        notAfter: new Date('2026-03-01T00:00:00Z'),
        signingSecret: 'acme-secret-old',
      },
      { label: 'new', notBefore: null, notAfter: null, signingSecret: 'acme-secret-new' },
    ]);
    assert.deepEqual(accounts[2].keys[0].label, '1');
    // The file's allowlist is the section's; an account's own replaces it.
    assert.equal(accounts[1].allowlist, acme.allowlist);
    assert.deepEqual(accounts[2].allowlist?.entries, ['192.0.2.7']);
    // The refusal limiter spares the addresses acme allowlists, as for the built-in providers.
    assert.deepEqual(
      allowlistsByProvider(config.providers)
        .get('acme')
        ?.map((list) => list.entries),
      [['10.1.0.0/16'], ['192.0.2.7']],
    );
    // The built-in sections are as they were.
    assert.deepEqual(Object.values(config.providers), [null, null, null, null, null, null]);
  });

  it('refuses an unknown field of its accounts and keys, naming the account and the field', () => {
    const path = file(
      ACME.replace('merchantId: M300', 'merchantID: M300').replace(
        'label: new',
        'label: new\n          signingSecrett: typo',
      ),
    );
    assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: path }), [
      `${path}: acme account "shop-a" keys[1].signingSecrett: is not a known field (check its spelling)`,
      `${path}: acme account "shop-b" merchantID: is not a known field (check its spelling)`,
      `${path}: acme account "shop-b" merchantId: must be an acme merchant id (M and at least 3 digits)`,
    ]);
  });

  it('applies its own field rules, the rules every account obeys, and its identity', () => {
    const path = file(
      ACME.replace('merchantId: M300', 'merchantId: M200').replace(
        'signingSecret: acme-secret-b',
        'signingSecret: 7',
      ),
    );
    // IsSecret's two rules (a string, not empty) share one message, given once per rule broken.
    assert.deepEqual(
      [...new Set(problemsOf({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: path }))],
      [
        `${path}: acme account "shop-b" keys[0].signingSecret: must be a non-empty string (quote it if YAML would read it as a number)`,
      ],
    );
    const twice = file(ACME.replace('merchantId: M300', 'merchantId: M200'));
    assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: twice }), [
      `${twice}: acme account "shop-b" key "1": same credentials as acme account "shop-a" (${twice}); a callback could not be attributed`,
    ]);
    const sameId = file(ACME.replace('id: shop-b', 'id: shop-a'));
    assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: sameId }), [
      `${sameId}: acme account "shop-a": id is already used by another acme account (${sameId})`,
    ]);
  });

  it('validates its environment variables with the others', () => {
    assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACME_MERCHANT_ID: 'shop' }), [
      'ACME_MERCHANT_ID must be M and at least 3 digits',
    ]);
    assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACME_MERCHANT_ID: 'M100' }), [
      'ACME_MERCHANT_ID and ACME_SIGNING_SECRET must be set together',
    ]);
  });

  it('still refuses a section no plugin declared', () => {
    const path = file(`${ACME}zeta:\n  accounts: []\n`);
    assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: path }), [
      `${path}: zeta: is not a known field (check its spelling)`,
    ]);
  });

  it('takes part in reloads: changes are described, emptying it needs removeAllAccounts', () => {
    const before = loadConfig({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: file(ACME) }).providers;
    const path = file('removeAllAccounts: [acme]\n');
    const after = loadConfig({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: path }).providers;
    assert.deepEqual(emptiedProviders(before, after), ['acme']);
    assert.deepEqual(describeChanges(before, after), [
      'acme disabled',
      'acme account shop-a removed',
      'acme account shop-b removed',
    ]);
    const zeta = file('removeAllAccounts: [zeta]\n');
    assert.deepEqual(problemsOf({ ...NO_PROVIDER_ENV, ACCOUNTS_FILE: zeta }), [
      `${zeta}: removeAllAccounts: must list only s88pay, mcpayment, nicepay, sidopulsa, ppob, snap, acme`,
    ]);
  });

  it("may not take a built-in provider's name", () => {
    assert.throws(
      () => registerAccountSection({ ...ACME_PLUGIN.accounts!, provider: 'nicepay' }),
      /account section "nicepay" is already defined/,
    );
  });
});
