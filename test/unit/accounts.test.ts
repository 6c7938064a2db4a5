import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { currentKey, describeChanges, keyValidAt } from '../../src/config/accounts.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import { readYaml, repoPath } from '../deploy/deploy-files.js';
import { problemsOf } from '../support/config.js';

/** The S88Pay accounts below carry merchant codes: verified by default, so the status API is named. */
const S88PAY_STATUS_API = { S88PAY_API_URL: 'https://s88pay.example/' };

const dir = mkdtempSync(join(tmpdir(), 'accounts-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `accounts-${++counter}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const FULL = `
nicepay:
  allowedIps: [103.20.51.0/24]
  accounts:
    - id: nicepay-va
      iMid: IONPAYTEST
      keys:
        - label: old
          merchantKey: nicepay-key-old-0001
          notAfter: "2026-03-01T00:00:00Z"
        - label: new
          merchantKey: nicepay-key-new-0002
          notBefore: "2026-02-20T00:00:00Z"
    - id: nicepay-card
      iMid: BMRICARD01
      allowedIps: 10.0.0.0/8, 192.168.1.1
      keys:
        - merchantKey: nicepay-card-key-0003
mcpayment:
  accounts:
    - id: brand-a
      subMerchantId: SUBM-A
      merchantId: MID-A
      secretUnboundId: SUB-SECRET-A
      keys: [{ hashKey: HASH-A }]
    - id: brand-b
      subMerchantId: SUBM-B
      merchantId: MID-B
      secretUnboundId: SUB-SECRET-B
      keys: [{ hashKey: HASH-A }]
s88pay:
  accounts:
    - id: idr
      merchantCode: SKU-IDR
      keys: [{ apiKey: api-1, secretKey: secret-1 }]
    - id: usd
      merchantCode: SKU-USD
      keys: [{ apiKey: api-1, secretKey: secret-1 }]
    - id: brand-c
      merchantCode: SKU-C
      keys: [{ apiKey: api-3, secretKey: secret-3 }]
ppob:
  allowedIps: "*"
  accounts:
    - id: reseller-1
      keys: [{ token: ppob-token-one-0123456789 }]
    - id: reseller-2
      keys: [{ token: ppob-token-two-0123456789, label: 2026 }]
`;

describe('accounts file', () => {
  it('reads every provider, its accounts and their keys from YAML', () => {
    const config = loadConfig({ ...S88PAY_STATUS_API, ACCOUNTS_FILE: file(FULL) });
    const nicepay = config.providers.nicepay!;
    assert.deepEqual(
      nicepay.accounts.map((a) => [a.id, a.iMid, a.keys.map((k) => k.label)]),
      [
        ['nicepay-va', 'IONPAYTEST', ['old', 'new']],
        ['nicepay-card', 'BMRICARD01', ['1']],
      ],
    );
    assert.equal(nicepay.accounts[0].keys[0].notAfter?.toISOString(), '2026-03-01T00:00:00.000Z');
    assert.ok(nicepay.accounts[0].allowlist!.allows('103.20.51.99'), "the provider's list");
    assert.ok(!nicepay.accounts[0].allowlist!.allows('10.1.1.1'));
    assert.ok(nicepay.accounts[1].allowlist!.allows('10.1.1.1'), 'its own list');
    assert.ok(!nicepay.accounts[1].allowlist!.allows('103.20.51.99'));
    const mcpayment = config.providers.mcpayment!;
    assert.deepEqual(
      mcpayment.accounts.map((a) => [a.id, a.subMerchantId, a.merchantId]),
      [
        ['brand-a', 'SUBM-A', 'MID-A'],
        ['brand-b', 'SUBM-B', 'MID-B'],
      ],
    );
    assert.equal(mcpayment.accounts[0].allowlist, null, 'no allowlist unless configured');
    assert.deepEqual(
      config.providers.s88pay!.accounts.map((a) => [a.id, a.merchantCode, a.namedByMerchantCode]),
      [
        ['idr', 'SKU-IDR', false],
        ['usd', 'SKU-USD', false],
        ['brand-c', 'SKU-C', false],
      ],
    );
    assert.deepEqual(
      config.providers.ppob!.accounts.map((a) => [a.id, a.keys.map((k) => k.label)]),
      [
        ['reseller-1', ['1']],
        ['reseller-2', ['2026']],
      ],
    );
    assert.equal(config.providers.sidopulsa, null, 'not in the file, not in the environment');
  });

  it('accepts the commented example of docker/k8s, which the kustomize base mounts', () => {
    const config = loadConfig({
      ...S88PAY_STATUS_API,
      ACCOUNTS_FILE: repoPath('docker', 'k8s', 'accounts.example.yaml'),
    });
    for (const provider of ['nicepay', 'mcpayment', 's88pay', 'sidopulsa', 'ppob'] as const)
      assert.ok(config.providers[provider]!.accounts.length > 0, provider);
    const deployment = readYaml('docker', 'k8s', 'deployment.yaml');
    const configMap = readYaml('docker', 'k8s', 'configmap.yaml');
    const pod = deployment.spec.template.spec;
    const mount = pod.containers[0].volumeMounts.find(
      (m: { name: string }) => m.name === 'accounts',
    );
    assert.equal(configMap.data.ACCOUNTS_FILE, `${mount.mountPath}/accounts.yaml`);
    assert.equal(mount.subPath, undefined, 'a subPath mount is never updated');
    assert.equal(
      pod.volumes.find((v: { name: string }) => v.name === 'accounts').secret.secretName,
      'payment-gateway-accounts',
    );
  });

  it('reads JSON too', () => {
    const path = file(
      JSON.stringify({
        mcpayment: { accounts: [{ id: 'json-account', keys: [{ hashKey: 'H' }] }] },
      }),
      'json',
    );
    const config = loadConfig({ ACCOUNTS_FILE: path, MCPAYMENT_VERIFY: 'off' });
    assert.equal(config.providers.mcpayment!.accounts[0].id, 'json-account');
  });

  it('keeps the environment accounts beside the file accounts', () => {
    const config = loadConfig({
      ...S88PAY_STATUS_API,
      ACCOUNTS_FILE: file(FULL),
      NICEPAY_IMID: 'ENVIMID001',
      NICEPAY_MERCHANT_KEY: 'env-key',
      PPOB_CALLBACK_TOKEN: 'ppob-env-token-0123456789',
    });
    assert.deepEqual(
      config.providers.nicepay!.accounts.map((a) => [a.id, a.source === 'environment']),
      [
        ['ENVIMID001', true],
        ['nicepay-va', false],
        ['nicepay-card', false],
      ],
    );
    assert.deepEqual(
      config.providers.ppob!.accounts.map((a) => a.id),
      ['default', 'reseller-1', 'reseller-2'],
    );
  });

  it('names the file, the account and the field of every problem, and never a value', () => {
    const path = file(`
nicepay:
  accounts:
    - id: va
      iMid: IONPAYTEST
      keys:
        - merchantKey: 12345
          notAftre: "2026-01-01T00:00:00Z"
        - merchantKey: top-secret-nicepay-key
          notBefore: 2026-01-01
mcpayment:
  accounts:
    - id: "bad id!"
      keys: []
s88pay:
  accounts:
    - id: brand
      keys: [{ apiKey: super-secret-api-key }]
ppob:
  accounts:
    - id: r1
      keys: [{ token: short-secret }]
unknownProvider: {}
`);
    const problems = problemsOf({ ACCOUNTS_FILE: path });
    const text = problems.join('\n');
    for (const expected of [
      `${path}: nicepay account "va" keys[0].merchantKey: must be a non-empty string`,
      `${path}: nicepay account "va" keys[0].notAftre: is not a known field`,
      `${path}: nicepay account "va" keys[1].notBefore: must be an RFC 3339 time with a zone`,
      `${path}: mcpayment account #1 id: must be 1-64 letters`,
      `${path}: mcpayment account #1 keys: must list at least one key`,
      `${path}: s88pay account "brand" keys[0].secretKey: must be a non-empty string`,
      `${path}: ppob account "r1" keys[0].token: must be at least 16 URL-safe characters`,
      `${path}: unknownProvider: is not a known field`,
    ]) {
      assert.ok(text.includes(expected), `${expected}\nin\n${text}`);
    }
    for (const secret of [
      '12345',
      'top-secret-nicepay-key',
      'super-secret-api-key',
      'short-secret',
    ])
      assert.ok(!text.includes(secret), `${secret} printed`);
  });

  it('refuses what a callback could not be attributed by, and rotation mistakes', () => {
    const path = file(`
nicepay:
  accounts:
    - id: a
      iMid: SAMEIMID01
      keys:
        - { label: k, merchantKey: x, notBefore: "2026-03-01T00:00:00Z", notAfter: "2026-02-01T00:00:00Z" }
        - { label: k, merchantKey: y }
    - id: b
      iMid: SAMEIMID01
      keys: [{ merchantKey: z }]
    - id: a
      iMid: OTHERIMID1
      keys: [{ merchantKey: w }]
s88pay:
  accounts:
    - id: one
      keys: [{ apiKey: shared-api, secretKey: shared-secret }]
    - id: two
      keys: [{ apiKey: shared-api, secretKey: shared-secret }]
sidopulsa:
  accounts:
    - id: t1
      keys: [{ token: sidopulsa-token-0123456789 }]
    - id: t2
      keys: [{ token: sidopulsa-token-0123456789 }]
    - id: open
`);
    const text = problemsOf({ ACCOUNTS_FILE: path }).join('\n');
    for (const expected of [
      `${path}: nicepay account "a" key "k": notBefore is after notAfter`,
      `${path}: nicepay account "a" key "k": label is used twice`,
      `${path}: nicepay account "b" key "1": same iMid as nicepay account "a"`,
      `${path}: nicepay account "a": id is already used by another nicepay account`,
      `${path}: s88pay account "two" key "1": same api key and secret key`,
      `${path}: sidopulsa account "t2" key "1": same URL token as sidopulsa account "t1"`,
      `${path}: sidopulsa account "open": has no keys (URL tokens) and no allowedIps`,
    ]) {
      assert.ok(text.includes(expected), `${expected}\nin\n${text}`);
    }
    assert.ok(!text.includes('shared-api') && !text.includes('sidopulsa-token-0123456789'));
  });

  it('with status verification on, every account of the provider needs its API credentials', () => {
    const path = file(`
mcpayment:
  accounts:
    - { id: with, merchantId: M, secretUnboundId: S, keys: [{ hashKey: h1 }] }
    - { id: without, keys: [{ hashKey: h2 }] }
`);
    assert.match(
      problemsOf({ ACCOUNTS_FILE: path }).join(),
      /mcpayment account "without": needs merchantId and secretUnboundId/,
    );
    assert.ok(loadConfig({ ACCOUNTS_FILE: path, MCPAYMENT_VERIFY: 'off' }).providers.mcpayment);
  });

  it('refuses an environment account id repeated in the file', () => {
    const path = file(`
mcpayment:
  accounts:
    - id: default
      keys: [{ hashKey: other }]
`);
    const text = problemsOf({ ACCOUNTS_FILE: path, MCPAYMENT_HASH_KEY: 'env-hash' }).join('\n');
    assert.match(
      text,
      /mcpayment account "default": id is already used by another mcpayment account \(environment\)/,
    );
  });

  it('reports unreadable files and YAML errors with a line and column, not the text', () => {
    const missing = join(dir, 'missing.yaml');
    assert.deepEqual(problemsOf({ ACCOUNTS_FILE: missing }), [
      `${missing}: cannot be read (ENOENT)`,
    ]);
    const broken = file('nicepay:\n  accounts: [\n    { id: a, hashKey: secret-in-broken-yaml\n');
    const [problem] = problemsOf({ ACCOUNTS_FILE: broken });
    assert.match(
      problem,
      new RegExp(`^${broken}: not valid YAML or JSON at line \\d+, column \\d+`),
    );
    assert.ok(!problem.includes('secret-in-broken-yaml'));
    assert.match(
      problemsOf({ ACCOUNTS_FILE: file('- a\n- b\n') })[0],
      /must be a mapping of providers/,
    );
  });
});

describe('key rotation', () => {
  const key = (notBefore: string | null, notAfter: string | null, label: string) => ({
    label,
    notBefore: notBefore ? new Date(notBefore) : null,
    notAfter: notAfter ? new Date(notAfter) : null,
  });
  const old = key(null, '2026-03-01T00:00:00Z', 'old');
  const next = key('2026-02-20T00:00:00Z', null, 'new');

  it('a key verifies from notBefore to notAfter, both inclusive', () => {
    assert.ok(keyValidAt(old, new Date('2026-03-01T00:00:00Z')));
    assert.ok(!keyValidAt(old, new Date('2026-03-01T00:00:00.001Z')));
    assert.ok(!keyValidAt(next, new Date('2026-02-19T23:59:59Z')));
    assert.ok(keyValidAt(next, new Date('2026-02-20T00:00:00Z')));
  });

  it('the current key is the newest valid one', () => {
    const account = { id: 'a', keys: [old, next], allowlist: null, source: 'test' };
    assert.equal(currentKey(account, new Date('2026-02-01T00:00:00Z'))?.label, 'old');
    assert.equal(currentKey(account, new Date('2026-02-25T00:00:00Z'))?.label, 'new');
    assert.equal(currentKey(account, new Date('2026-04-01T00:00:00Z'))?.label, 'new');
    const retired = { ...account, keys: [old] };
    assert.equal(currentKey(retired, new Date('2026-04-01T00:00:00Z')), null);
  });
});

describe('status API credentials by (provider, account)', () => {
  it('gives the key valid at that time and the account identifiers', () => {
    const config = loadConfig({
      ...S88PAY_STATUS_API,
      ACCOUNTS_FILE: file(FULL),
      S88PAY_API_KEY: 'env-api',
      S88PAY_SECRET_KEY: 'env-secret',
      S88PAY_MERCHANT_CODE: 'SKU20230101012023',
      S88PAY_API_URL: 'https://s88pay.example/',
    });
    const registry = config.accounts;
    assert.deepEqual(
      registry.statusApiCredentials('nicepay', 'nicepay-va', new Date('2026-02-01T00:00:00Z')),
      {
        provider: 'nicepay',
        account: 'nicepay-va',
        apiUrl: 'https://www.nicepay.co.id',
        iMid: 'IONPAYTEST',
        merchantKey: 'nicepay-key-old-0001',
      },
    );
    const rotated = registry.statusApiCredentials(
      'nicepay',
      'nicepay-va',
      new Date('2026-02-21T00:00:00Z'),
    );
    assert.equal(
      rotated?.provider === 'nicepay' ? rotated.merchantKey : null,
      'nicepay-key-new-0002',
    );
    assert.deepEqual(registry.statusApiCredentials('mcpayment', 'brand-a'), {
      provider: 'mcpayment',
      account: 'brand-a',
      apiUrl: 'https://api.ifortepay.id',
      hashKey: 'HASH-A',
      subMerchantId: 'SUBM-A',
      merchantId: 'MID-A',
      secretUnboundId: 'SUB-SECRET-A',
    });
    assert.deepEqual(registry.statusApiCredentials('s88pay', 'usd'), {
      provider: 's88pay',
      account: 'usd',
      apiUrl: 'https://s88pay.example',
      merchantCode: 'SKU-USD',
      apiKey: 'api-1',
      secretKey: 'secret-1',
    });
    // The environment account is named by each payload's merchant_code.
    assert.equal(registry.account('s88pay', 'SKU20230101012023')?.source, 'environment');
    assert.equal(
      registry.statusApiCredentials('s88pay', 'SKU20230101012023')?.account,
      'SKU20230101012023',
    );
    assert.equal(registry.statusApiCredentials('ppob', 'reseller-1'), null, 'no status API');
    const off = loadConfig({
      ...S88PAY_STATUS_API,
      ACCOUNTS_FILE: file(FULL),
      NICEPAY_VERIFY: 'off',
    }).accounts;
    assert.equal(off.statusApiCredentials('nicepay', 'nicepay-va'), null, 'verification off');
    assert.equal(registry.statusApiCredentials('mcpayment', 'nobody'), null);
  });
});

describe('reload diff', () => {
  it('names added and removed accounts and keys, never a secret', () => {
    const before = loadConfig({ ...S88PAY_STATUS_API, ACCOUNTS_FILE: file(FULL) }).providers;
    const changed = FULL.replace('id: brand-c', 'id: brand-d')
      .replace('label: 2026 }', 'label: 2027 }')
      .replace('HASH-A }]\n    - id: brand-b', 'HASH-Z }]\n    - id: brand-b');
    const after = loadConfig({ ...S88PAY_STATUS_API, ACCOUNTS_FILE: file(changed) }).providers;
    const changes = describeChanges(before, after);
    assert.deepEqual(changes.sort(), [
      'mcpayment account brand-a: key 1 replaced',
      'ppob account reseller-2: +key 2027, -key 2026',
      's88pay account brand-c removed',
      's88pay account brand-d added (keys 1)',
    ]);
    assert.ok(!changes.join().includes('HASH'));
  });
});
