import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, ADMIN_KEY } from '../admin/admin-support.js';
import { sleep } from '../support/broker.js';
import { accountsFile, NO_PROVIDER_ENV, type AccountsFileHandle } from '../support/accounts.js';
import type { DatabaseKind } from '../support/databases.js';
import { acceptedCallbacks, createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback, mcpaymentSignature, postMcpayment } from '../support/mcpayment.js';
import { metricValue, scrape } from '../support/metrics.js';
import { nicepayNotification, postForm } from '../support/nicepay.js';
import { callbackUrl, uniqueRef, waitForEvent } from '../support/ppob-sidopulsa.js';
import { postJson, s88payCallback, s88payPayload } from '../support/s88pay.js';

const NICEPAY_VA = { iMid: 'NPVA000001', merchantKey: 'nicepay-va-key-0001' };
const NICEPAY_CARD = { iMid: 'NPCARD0001', merchantKey: 'nicepay-card-key-0002' };
const SUB_A = { subMerchantId: 'SUBM-A', hashKey: 'HASH-SUB-A' };
const SUB_B = { subMerchantId: 'SUBM-B', hashKey: 'HASH-SUB-B' };
// Two brands share S88Pay credentials and are told apart by their merchant codes.
const SHARED = { apiKey: 's88-shared-api-key', secretKey: 's88-shared-secret' };
const OWN = { apiKey: 's88-own-api-key%3D', secretKey: 's88-own-secret' };
const PPOB_1 = 'ppob-reseller-one-0123456789';
const PPOB_2 = 'ppob-reseller-two-0123456789';

const ACCOUNTS = `
# Test accounts: every provider's accounts come from this file.
nicepay:
  allowedIps: 127.0.0.1, ::1
  accounts:
    - id: va
      iMid: ${NICEPAY_VA.iMid}
      keys: [{ label: va-2026, merchantKey: ${NICEPAY_VA.merchantKey} }]
    - id: card
      iMid: ${NICEPAY_CARD.iMid}
      keys: [{ merchantKey: ${NICEPAY_CARD.merchantKey} }]
mcpayment:
  accounts:
    - id: brand-a
      subMerchantId: ${SUB_A.subMerchantId}
      keys: [{ hashKey: ${SUB_A.hashKey} }]
    - id: brand-b
      subMerchantId: ${SUB_B.subMerchantId}
      keys: [{ label: b1, hashKey: ${SUB_B.hashKey} }]
s88pay:
  accounts:
    - id: idr
      merchantCode: SKU-IDR
      keys: [{ apiKey: ${SHARED.apiKey}, secretKey: ${SHARED.secretKey} }]
    - id: thb
      merchantCode: SKU-THB
      keys: [{ apiKey: ${SHARED.apiKey}, secretKey: ${SHARED.secretKey} }]
    - id: own
      keys: [{ label: own-1, apiKey: "${OWN.apiKey}", secretKey: ${OWN.secretKey} }]
ppob:
  allowedIps: [127.0.0.1, "::1"]
  accounts:
    - id: reseller-1
      keys: [{ token: ${PPOB_1} }]
    - id: reseller-2
      keys: [{ label: r2, token: ${PPOB_2} }]
`;

function attributionSuite(kind: DatabaseKind) {
  describe(`several accounts per provider (${kind})`, () => {
    let bed: TestBed;
    let file: AccountsFileHandle;

    before(async () => {
      file = accountsFile(ACCOUNTS);
      bed = await createTestBed(kind, {
        ...NO_PROVIDER_ENV,
        ACCOUNTS_FILE: file.path,
        ADMIN_API_KEY: ADMIN_KEY,
      });
    });
    after(async () => {
      await bed.teardown();
      file.remove();
    });

    async function storedFor(reference: string) {
      const rows = await acceptedCallbacks(bed.db);
      const row = rows.find((r) => r.merchant_reference === reference);
      assert.ok(row, `callback ${reference} stored`);
      return row;
    }

    async function expectAttributed(reference: string, account: string, key: string) {
      const [event] = await waitForEvent(bed, (b) => b.subject === reference);
      assert.equal(event.body.data.account, account);
      const row = await storedFor(reference);
      assert.equal(row.account, account);
      assert.equal(row.credential_key, key);
    }

    it('NICEPAY: two iMids with their own keys', async () => {
      for (const [merchant, account, key] of [
        [NICEPAY_VA, 'va', 'va-2026'],
        [NICEPAY_CARD, 'card', '1'],
      ] as const) {
        const fields = nicepayNotification({}, merchant);
        const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields);
        assert.equal(res.status, 200, await res.text());
        await expectAttributed(fields.referenceNo, account, key);
      }
      // The card iMid's tXid signed with the VA account's key proves nothing.
      const forged = nicepayNotification(
        {},
        { iMid: NICEPAY_CARD.iMid, merchantKey: NICEPAY_VA.merchantKey },
      );
      const refused = await postForm(`${bed.gateway.url}/callbacks/nicepay`, forged);
      assert.equal(refused.status, 401);
    });

    it('MCPayment: two sub-merchants', async () => {
      for (const [sub, account, key] of [
        [SUB_A, 'brand-a', '1'],
        [SUB_B, 'brand-b', 'b1'],
      ] as const) {
        const body = mcpaymentCallback();
        const signature = mcpaymentSignature(body, sub.hashKey, sub.subMerchantId);
        const res = await postMcpayment(`${bed.gateway.url}/callbacks/mcpayment`, body, signature);
        assert.equal(res.status, 200, await res.text());
        await expectAttributed(body.order_id, account, key);
      }
      // Brand A's key with brand B's sub-merchant id is no one's signature.
      const body = mcpaymentCallback();
      const mixed = mcpaymentSignature(body, SUB_A.hashKey, SUB_B.subMerchantId);
      const refused = await postMcpayment(`${bed.gateway.url}/callbacks/mcpayment`, body, mixed);
      assert.equal(refused.status, 401);
    });

    it('S88Pay: three accounts, two of them sharing keys and told apart by merchant code', async () => {
      for (const [credentials, merchantCode, account, key] of [
        [SHARED, 'SKU-IDR', 'idr', '1'],
        [SHARED, 'SKU-THB', 'thb', '1'],
        [OWN, 'SKU-ANY', 'own', 'own-1'],
      ] as const) {
        const payload = s88payPayload({
          merchant_code: merchantCode,
          merchant_api_key: credentials.apiKey,
        });
        const res = await postJson(
          `${bed.gateway.url}/callbacks/s88pay`,
          s88payCallback(payload, { credentials }),
        );
        assert.equal(res.status, 200, await res.text());
        await expectAttributed(String(payload.transaction_code), account, key);
      }
      // The shared keys with a merchant code no account has: no account to attribute it to.
      const stranger = s88payPayload({ merchant_code: 'SKU-EUR' });
      const refused = await postJson(
        `${bed.gateway.url}/callbacks/s88pay`,
        s88payCallback(stranger, { credentials: SHARED }),
      );
      assert.equal(refused.status, 401);
    });

    it('PPOB: each reseller account has its own callback URL', async () => {
      for (const [token, account, key] of [
        [PPOB_1, 'reseller-1', '1'],
        [PPOB_2, 'reseller-2', 'r2'],
      ] as const) {
        const ref = uniqueRef('PA');
        const res = await fetch(
          callbackUrl(
            bed.gateway.url,
            'ppob',
            { ref_id: ref, status: 'Success', sn: '1234', code: 'S10', destination: '0812' },
            { token },
          ),
        );
        assert.equal(res.status, 200, await res.text());
        await expectAttributed(ref, account, key);
      }
      const wrong = await fetch(
        callbackUrl(
          bed.gateway.url,
          'ppob',
          { ref_id: uniqueRef('PA'), status: 'Success' },
          { token: `${PPOB_1}x` },
        ),
      );
      assert.equal(wrong.status, 401);
    });

    it('counts callbacks and key matches by account, and the admin search filters by account', async () => {
      await sleep(100);
      const text = await scrape(bed.gateway.url);
      for (const [provider, account, key] of [
        ['nicepay', 'va', 'va-2026'],
        ['nicepay', 'card', '1'],
        ['mcpayment', 'brand-b', 'b1'],
        ['s88pay', 'thb', '1'],
        ['ppob', 'reseller-2', 'r2'],
      ]) {
        assert.equal(
          metricValue(text, 'gateway_credential_matches_total', { provider, account, key }),
          1,
          `${provider}/${account}/${key}`,
        );
        assert.equal(
          metricValue(text, 'gateway_callbacks_total', { provider, account, outcome: 'accepted' }),
          1,
        );
      }
      assert.equal(
        metricValue(text, 'gateway_callbacks_total', {
          provider: 'nicepay',
          account: 'none',
          outcome: 'rejected-auth',
        }),
        1,
      );
      // No event was produced by the four forgeries: one event per accepted callback.
      assert.equal(bed.tap.messages.length, 9);
      assert.equal((await acceptedCallbacks(bed.db)).length, 9);

      const card = await admin(bed, 'GET', '/admin/callbacks?provider=nicepay&account=card');
      assert.equal(card.status, 200);
      assert.deepEqual(
        card.body.items.map((item: { account: string; credentialKey: string }) => [
          item.account,
          item.credentialKey,
        ]),
        [['card', '1']],
      );
      const detail = await admin(bed, 'GET', `/admin/callbacks/${card.body.items[0].id}`);
      assert.equal(detail.body.credentialKey, '1');
      const thb = await admin(bed, 'GET', '/admin/callbacks?account=thb');
      assert.deepEqual(
        thb.body.items.map((item: { provider: string }) => item.provider),
        ['s88pay'],
      );
    });
  });
}

attributionSuite('postgres');
attributionSuite('sqlite');
