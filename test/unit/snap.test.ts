import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { SnapAccount } from '../../src/config/accounts.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import { normalizeSnap } from '../../src/providers/snap/snap.normalize.js';
import {
  profileProblems,
  resolveProfile,
  SHIPPED_SNAP_PROFILES,
  type SnapProfile,
} from '../../src/config/snap/snap.profile.js';
import { bodyHashes, minifyJson } from '../../src/providers/snap/snap.signature.js';
import { issueToken, tokenProblem } from '../../src/providers/snap/snap.token.js';
import { accountsFile } from '../support/accounts.js';
import { problemsOf } from '../support/config.js';
import { rsaPair } from '../support/snap.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('SNAP body hash', () => {
  it('minify removes whitespace outside strings only, escapes kept as sent', () => {
    const text = '{\n  "name" : "Budi  Santoso ",\n  "note":"a\\" b",\n  "e" : "Ren\\u00e9"\n}';
    assert.equal(minifyJson(text), '{"name":"Budi  Santoso ","note":"a\\" b","e":"Ren\\u00e9"}');
  });

  it('hashes the raw bytes first, then the minified text, lower-case hex', () => {
    const pretty = '{ "a": "x y" }';
    assert.deepEqual(bodyHashes(Buffer.from(pretty)), [sha256(pretty), sha256('{"a":"x y"}')]);
    assert.deepEqual(bodyHashes(Buffer.from('{"a":1}')), [sha256('{"a":1}')]);
  });
});

describe('SNAP profiles', () => {
  it('every shipped profile is valid (family D once the account names its notify URL) and names its source', () => {
    for (const [name, data] of Object.entries(SHIPPED_SNAP_PROFILES)) {
      const override =
        data.family === 'hmac-notifyurl'
          ? { signedPathPrefix: 'https://merchant.example/snap' }
          : undefined;
      assert.deepEqual(profileProblems(name, resolveProfile(data, override)), [], name);
      assert.ok(data.source.length > 10, `${name} names its source`);
    }
  });

  it('names each problem of a profile', () => {
    const problems = profileProblems(
      'p',
      resolveProfile(
        { name: 'x', displayName: 'X', source: 'docs', family: 'hmac-notifyurl' },
        {
          statusMap: { '00': 'paid' },
          services: { 'va-payment': { ackCode: '200' }, refund: {} },
          skewSeconds: 0,
          colour: 'red',
        },
      ),
    );
    assert.deepEqual(problems.sort(), [
      'p.colour: is not a known field (check its spelling)',
      'p.services.refund: is not a SNAP service (va-payment, va-notify-intrabank, debit-notify, qr-mpm-notify)',
      'p.services.va-payment.ackCode: must be a 7-digit SNAP responseCode (e.g. 2002500)',
      'p.signedPathPrefix: family hmac-notifyurl signs the notify URL registered with the provider: set it to that URL without the service path (e.g. https://merchant.example/snap)',
      'p.skewSeconds: must be a whole number of seconds from 1 to 86400',
      'p.statusMap.00: must be one of succeeded, pending, failed, expired, refunded, reversed, cancelled',
    ]);
  });

  it('family rsa-clientkey needs a status API', () => {
    const problems = profileProblems(
      'p',
      resolveProfile(
        { name: 'a', displayName: 'A', source: 'docs', family: 'rsa-clientkey' },
        undefined,
      ),
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0], /does not sign the body: a status API/);
  });
});

describe('SNAP accounts file', () => {
  const problemsFor = (snap: unknown) => {
    const file = accountsFile(JSON.stringify({ snap }));
    try {
      return problemsOf({ NODE_ENV: 'test', ACCOUNTS_FILE: file.path });
    } finally {
      file.remove();
    }
  };

  it('refuses an unknown profile, what the family needs, a bad PEM, never showing a value', () => {
    const problems = problemsFor({
      accounts: [
        { id: 'a', profile: 'nope-snap', keys: [{ clientSecret: 's' }] },
        {
          id: 'b',
          profile: 'doku-snap',
          keys: [{ clientSecret: 'hidden-secret', publicKey: 'not a pem' }],
        },
        {
          id: 'c',
          profile: 'nicepay-snap',
          clientKey: 'K',
          keys: [{ publicKey: rsaPair().publicKey }],
        },
      ],
    });
    const text = problems.join('\n');
    assert.match(text, /snap account "a" profile: "nope-snap" is neither a shipped profile/);
    assert.match(text, /snap account "b": needs clientKey \(family hmac-token\)/);
    assert.match(text, /snap account "b" keys\[0\]\.publicKey: is not a PEM public key/);
    assert.match(
      text,
      /snap account "c": needs apiUrl: its callbacks are confirmed by the status API/,
    );
    assert.match(text, /snap account "c" keys\[0\]: needs privateKey/);
    assert.doesNotMatch(text, /hidden-secret/);
  });

  it('accepts an inline profile and an override, merged over the defaults', () => {
    const file = accountsFile(
      JSON.stringify({
        snap: {
          profiles: {
            'acme-snap': {
              displayName: 'ACME',
              source: 'guide',
              family: 'rsa-body',
              statusMap: { '09': 'expired' },
            },
          },
          accounts: [
            {
              id: 'acme',
              profile: 'acme-snap',
              override: { skewSeconds: 60 },
              keys: [{ publicKey: rsaPair().publicKey }],
            },
          ],
        },
      }),
    );
    try {
      const config = loadConfig({ NODE_ENV: 'test', ACCOUNTS_FILE: file.path });
      const [acme] = config.providers.snap!.accounts;
      assert.equal(acme.profile.family, 'rsa-body');
      assert.equal(acme.profile.skewSeconds, 60);
      assert.equal(acme.profile.statusMap['09'], 'expired');
      assert.equal(acme.profile.statusMap['00'], undefined, "the profile's codes replace ASPI's");
      assert.deepEqual(Object.keys(acme.profile.services), ['va-payment'], 'the default service');
    } finally {
      file.remove();
    }
  });
});

describe('SNAP normalization', () => {
  const profile = resolveProfile(
    SHIPPED_SNAP_PROFILES['midtrans-snap'],
    undefined,
  ) as unknown as SnapProfile;

  it('amount objects become the canonical decimal; VA payments without a status are paid', () => {
    const { transaction } = normalizeSnap(
      {
        trxId: 'O-1',
        paymentRequestId: 'P-1',
        virtualAccountNo: '  1',
        paidAmount: { value: '0150000.50', currency: 'idr' },
      },
      profile,
      'va-payment',
    );
    assert.equal(transaction.amount, '150000.5');
    assert.equal(transaction.currency, 'IDR');
    assert.equal(transaction.status, 'succeeded');
    assert.equal(transaction.channel, 'MIDTRANS-SNAP');
  });

  it('latestTransactionStatus wins over paymentFlagStatus, wherever each is', () => {
    const { transaction } = normalizeSnap(
      {
        originalPartnerReferenceNo: 'O-2',
        amount: { value: '1.00', currency: 'IDR' },
        paymentFlagStatus: '00',
        additionalInfo: { latestTransactionStatus: '06' },
      },
      profile,
      'debit-notify',
    );
    assert.equal(transaction.status, 'failed');
    assert.equal(transaction.providerStatus, '06');
  });

  it('lists every missing fact (the pipeline quarantines)', () => {
    assert.throws(
      () => normalizeSnap({ amount: { value: '1,000', currency: 'IDR' } }, profile, 'debit-notify'),
      (error: Error & { getResponse(): { errors: string[] } }) => {
        assert.equal(error.getResponse().errors.length, 3);
        return true;
      },
    );
  });
});

describe('SNAP access tokens (family hmac-token)', () => {
  const account = {
    id: 'doku',
    keys: [
      {
        label: '1',
        notBefore: null,
        notAfter: null,
        clientSecret: 'secret',
        publicKey: null,
        privateKey: null,
      },
    ],
  } as unknown as SnapAccount;

  it('valid until its expiry, for its account only, and only as issued', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const token = issueToken(account, 'secret', 900, now);
    assert.equal(tokenProblem(account, token, now), null);
    assert.equal(tokenProblem(account, token, new Date(now.getTime() + 899_000)), null);
    assert.match(tokenProblem(account, token, new Date(now.getTime() + 901_000))!, /expired/);
    assert.match(
      tokenProblem({ ...account, id: 'other' }, token, now)!,
      /not one the gateway issued/,
    );
    const [payload, mac] = token.split('.');
    const longer = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), e: 9e9 }),
    ).toString('base64url');
    assert.match(tokenProblem(account, `${longer}.${mac}`, now)!, /not one the gateway issued/);
    const rotated = { ...account, keys: [{ ...account.keys[0], clientSecret: 'new-secret' }] };
    assert.match(tokenProblem(rotated, token, now)!, /not one the gateway issued/);
  });
});
