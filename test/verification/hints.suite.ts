import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { McpaymentSandbox } from '../../src/providers/mcpayment/mcpayment.sandbox.js';
import type { NicepaySandbox } from '../../src/providers/nicepay/nicepay.sandbox.js';
import type { SandboxCallback, SandboxLedger } from '../../src/sandbox/sandbox-ledger.js';
import { sleep } from '../support/broker.js';
import type { DatabaseKind } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { inquiryEnv, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { StatusApiProxy } from '../support/status-api-proxy.js';
import { eventually, sendCallback } from './verification.suite.js';
import { assertClockVersion } from '../support/versions.js';

const ADMIN_KEY = 'hints-test-admin-key-0123456789abcdef';
/** An S88Pay api_key of the documented shape: `%3D`, `+`, `/`, `=` are part of the key itself. */
const S88PAY_ODD_KEY = 'k%3Dmy+api/key==';

type Ledger = SandboxLedger<Record<string, unknown>>;
type Body = Record<string, unknown>;

/** The transaction a status-API request asks about (tXid, transaction_id, or S88Pay's key). */
function transactionOfRequest(_path: string, body: string): string {
  try {
    const json = JSON.parse(body) as Body;
    return String(json.tXid ?? json.transaction_id ?? body);
  } catch {
    return body;
  }
}

/**
 * The provider's answer is the event; a callback is a hint (issue 21). Each case of the attack
 * run, against the provider sandbox over real HTTP, through a relay that can make the status APIs
 * slow, down, lying, redirecting or huge — on one database.
 */
export function hintSuite(kind: DatabaseKind): void {
  describe(`the provider's answer is the event, a callback only a hint (${kind})`, () => {
    let sandbox: TestSandbox;
    let proxy: StatusApiProxy;
    let bed: TestBed;
    const ph = (n: number) => (kind === 'postgres' ? `$${n}` : '?');

    before(async () => {
      sandbox = await startTestSandbox(undefined, { S88PAY_API_KEY: S88PAY_ODD_KEY });
      proxy = new StatusApiProxy(sandbox.sandbox.url, transactionOfRequest);
      await proxy.start();
      bed = await createTestBed(kind, {
        ...inquiryEnv(proxy.url),
        S88PAY_API_KEY: S88PAY_ODD_KEY,
        VERIFY_RETRY_MAX_SECONDS: '1',
        VERIFY_RECHECK_SECONDS: '1,1,2',
        VERIFY_INCOMPLETE_ATTEMPTS: '3',
        RECONCILE_AFTER_SECONDS: '3600',
        ADMIN_API_KEY: ADMIN_KEY,
      });
      sandbox.sandbox.setGatewayUrl(bed.gateway.url);
    });
    after(async () => {
      await bed.teardown();
      await proxy.close();
      await sandbox.sandbox.close();
    });

    const ledger = (name: string) => sandbox.sandbox.provider<Ledger>(name);
    const eventsOf = (providerTransactionId: unknown) =>
      bed.tap.bodies().filter((body) => body.data.providerTransactionId === providerTransactionId);
    const ofType = (id: unknown, type: string) => eventsOf(id).filter((b) => b.type === type);
    const hintsOf = (transactionKey: unknown) =>
      bed.db.query<{
        id: string;
        outcome: string;
        status: string;
        state: string;
        detail: string | null;
        credential_key: string | null;
        raw_body: string;
      }>(
        `SELECT c.id, c.outcome, c.status, v.state, v.detail, c.credential_key, c.raw_body
         FROM callbacks c JOIN verifications v ON v.callback_id = c.id
         WHERE c.transaction_key = ${ph(1)} ORDER BY c.received_at`,
        [String(transactionKey)],
      );
    const settled = (transactionKey: unknown, count: number) =>
      eventually(`${count} hint(s) of ${String(transactionKey)} settled`, async () => {
        const rows = await hintsOf(transactionKey);
        return rows.length >= count && rows.every((row) => row.state !== 'verifying') && rows;
      });
    const withBody = (callback: SandboxCallback, body: string): SandboxCallback => ({
      ...callback,
      body,
    });
    const nicepayForm = (callback: SandboxCallback) =>
      Object.fromEntries(new URLSearchParams(callback.body!));
    /** The transaction key of a sandbox callback: NICEPAY tXid, MCPayment transaction_id, S88Pay transaction_no. */
    const keyOf = (callback: SandboxCallback): string => {
      if (callback.path.includes('nicepay')) return nicepayForm(callback).tXid;
      const body = JSON.parse(callback.body!) as Body;
      return String(body.transaction_id ?? body.transaction_no);
    };
    const admin = (path: string, body?: unknown) =>
      fetch(`${bed.gateway.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'x-admin-key': ADMIN_KEY, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('NICEPAY: a deposit replayed as a reversal is contradicted and holds no slot: the genuine reversal is published', async () => {
      const nicepay = sandbox.sandbox.provider<NicepaySandbox>('nicepay');
      const genuine = await nicepay.create({ status: 'succeeded', reference: `ORD-REV-${kind}` });
      const tXid = nicepayForm(genuine.callback!).tXid;
      await eventually('the deposit', async () => ofType(tXid, 'payment.succeeded').length === 1);
      const forged = withBody(
        genuine.callback!,
        new URLSearchParams({ ...nicepayForm(genuine.callback!), status: '1' }).toString(),
      );
      assert.equal((await sendCallback(bed.gateway.url, forged)).status, 200);
      const rows = await settled(tXid, 2);
      assert.deepEqual(
        rows.map((row) => row.state),
        ['confirmed', 'contradicted'],
      );
      await sleep(300);
      assert.equal(ofType(tXid, 'payment.reversed').length, 0, 'the forgery publishes nothing');

      // NICEPAY really reverses the payment: its genuine reversal callback must not be a "duplicate".
      const reversal = await nicepay.update(genuine.key, { status: 'reversed', send: true });
      assert.equal(reversal.gatewayStatus, 200);
      const [reversed] = await eventually('the genuine reversal', async () => {
        const events = ofType(tXid, 'payment.reversed');
        return events.length > 0 && events;
      });
      assert.equal(reversed.data.previousStatus, 'succeeded');
      assertClockVersion(reversed.data.transactionVersion, reversed.data.receivedAt);
      assert.ok(['inquiry', 'reconciliation'].includes(reversed.data.verification.method));
      await sleep(1_500);
      assert.equal(ofType(tXid, 'payment.reversed').length, 1, 'published once');
    });

    it('MCPayment: a full REFUNDED guessed in advance, and a PAID replayed before the customer pays, cost nothing genuine', async () => {
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      // 1. A refund guessed before it happens.
      const paid = await mcpayment.create({ status: 'PAID', reference: `ORD-RFG-${kind}` });
      const paidBody = JSON.parse(paid.callback!.body!) as Body;
      const id = paidBody.transaction_id;
      await eventually('the payment', async () => ofType(id, 'payment.succeeded').length === 1);
      const total = (paidBody.payment_details as Body).total_amount;
      const guessed = {
        ...paidBody,
        transaction_status: 'REFUNDED',
        refund_history: [
          {
            refund_amount: total,
            refund_time: paidBody.transaction_time,
            refund_reference_id: 'RF-GUESS',
          },
        ],
      };
      assert.equal(
        (await sendCallback(bed.gateway.url, withBody(paid.callback!, JSON.stringify(guessed))))
          .status,
        200,
      );
      assert.equal((await settled(id, 2))[1].state, 'contradicted');
      assert.equal(ofType(id, 'payment.refunded').length, 0);
      await mcpayment.update(paid.key, { status: 'REFUNDED', send: true });
      await eventually(
        'the genuine refund',
        async () => ofType(id, 'payment.refunded').length === 1,
      );

      // 2. An ACTIVE replayed as PAID before the customer pays.
      const active = await mcpayment.create({ status: 'ACTIVE', reference: `ORD-EARLY-${kind}` });
      const activeBody = JSON.parse(active.callback!.body!) as Body;
      const activeId = activeBody.transaction_id;
      await eventually('pending', async () => ofType(activeId, 'payment.pending').length === 1);
      const early = { ...activeBody, transaction_status: 'PAID' };
      await sendCallback(bed.gateway.url, withBody(active.callback!, JSON.stringify(early)));
      assert.equal((await settled(activeId, 2))[1].state, 'contradicted');
      assert.equal(ofType(activeId, 'payment.succeeded').length, 0);
      await mcpayment.update(active.key, { status: 'PAID', send: true });
      const [succeeded] = await eventually('the genuine PAID', async () => {
        const events = ofType(activeId, 'payment.succeeded');
        return events.length > 0 && events;
      });
      assert.equal(succeeded.data.previousStatus, 'pending');
      await sleep(1_500);
      assert.equal(ofType(id, 'payment.refunded').length, 1, 'one refund event');
      assert.equal(ofType(activeId, 'payment.succeeded').length, 1, 'one payment event');
    });

    it('a genuine callback arriving while a forged copy waits (status API down) is confirmed; the forgery is not', async () => {
      proxy.set(() => ({ status: 503, body: '{"error":"down"}' }));
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      const nicepay = sandbox.sandbox.provider<NicepaySandbox>('nicepay');
      const mcp = await mcpayment.create({
        status: 'PAID',
        reference: `ORD-WAIT-${kind}`,
        send: false,
      });
      const mcpBody = JSON.parse(mcp.callback!.body!) as Body;
      const nice = await nicepay.create({
        status: 'succeeded',
        reference: `ORD-WAITN-${kind}`,
        send: false,
      });
      const niceForm = nicepayForm(nice.callback!);
      try {
        const forgedMcp = {
          ...mcpBody,
          payment_details: {
            ...(mcpBody.payment_details as Body),
            amount: 99999999,
            total_amount: 99999999,
          },
        };
        const forgedNice = new URLSearchParams({
          ...niceForm,
          referenceNo: `VICTIM-${kind}`,
          status: '1',
        });
        for (const callback of [
          withBody(mcp.callback!, JSON.stringify(forgedMcp)),
          withBody(nice.callback!, forgedNice.toString()),
        ]) {
          assert.equal((await sendCallback(bed.gateway.url, callback)).status, 200);
        }
        await sleep(300);
        for (const callback of [mcp.callback!, nice.callback!]) {
          assert.equal(
            (await sendCallback(bed.gateway.url, callback)).status,
            200,
            'not a duplicate of the forgery',
          );
        }
        await sleep(1_500);
        assert.equal(
          eventsOf(mcpBody.transaction_id).length,
          0,
          'nothing while the provider is down',
        );
      } finally {
        proxy.set(null);
      }
      const [event] = await eventually('the genuine MCPayment PAID', async () => {
        const events = ofType(mcpBody.transaction_id, 'payment.succeeded');
        return events.length > 0 && events;
      });
      assert.equal(event.data.amount, String((mcpBody.payment_details as Body).amount));
      await eventually(
        'the genuine NICEPAY deposit',
        async () => ofType(niceForm.tXid, 'payment.succeeded').length === 1,
      );
      assert.deepEqual(
        (await settled(mcpBody.transaction_id, 2)).map((row) => row.state),
        ['conflicted', 'confirmed'],
      );
      assert.deepEqual(
        (await settled(niceForm.tXid, 2)).map((row) => row.state),
        ['conflicted', 'confirmed'],
      );
      await sleep(1_000);
      assert.equal(eventsOf(mcpBody.transaction_id).length, 1);
      assert.equal(ofType(niceForm.tXid, 'payment.reversed').length, 0);
      assert.equal(eventsOf(niceForm.tXid).length, 1);
    });

    it('one refund gives one payment.refunded: a forged CANCELED before the genuine REFUNDED cannot double it', async () => {
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      const paid = await mcpayment.create({ status: 'PAID', reference: `ORD-ONEREF-${kind}` });
      const body = JSON.parse(paid.callback!.body!) as Body;
      const id = body.transaction_id;
      await eventually('the payment', async () => ofType(id, 'payment.succeeded').length === 1);
      // Refunded in full at the provider; its callback comes later.
      const refund = await mcpayment.update(paid.key, { status: 'REFUNDED', send: false });
      await sendCallback(
        bed.gateway.url,
        withBody(paid.callback!, JSON.stringify({ ...body, transaction_status: 'CANCELED' })),
      );
      const [first] = await eventually('the provider refund, applied from its answer', async () => {
        const events = ofType(id, 'payment.refunded');
        return events.length > 0 && events;
      });
      assertClockVersion(first.data.transactionVersion, first.data.receivedAt);
      assert.equal((await sendCallback(bed.gateway.url, refund.callback!)).status, 200);
      const rows = await settled(id, 3);
      assert.deepEqual(
        rows.map((row) => row.state),
        ['confirmed', 'contradicted', 'confirmed'],
      );
      await sleep(1_500);
      assert.equal(ofType(id, 'payment.refunded').length, 1, 'no second refund event');
    });

    it('transient answers (redirect, HTML, no resultCd, credential refusal, a huge body) are retried, never conflicted', async () => {
      let trapped = 0;
      const trap = http.createServer((_req, res) => {
        trapped += 1;
        res.end('{}');
      });
      await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
      const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/steal`;
      const cases: Array<{
        name: string;
        provider: string;
        status: string;
        fault: Parameters<StatusApiProxy['set']>[0];
      }> = [
        {
          name: 'redirect to another host',
          provider: 'mcpayment',
          status: 'PAID',
          fault: () => ({ redirect: trapUrl }),
        },
        {
          name: 'redirect (S88Pay)',
          provider: 's88pay',
          status: 'succeeded',
          fault: () => ({ redirect: trapUrl }),
        },
        {
          name: 'MCPayment 200 with an HTML page',
          provider: 'mcpayment',
          status: 'PAID',
          fault: () => ({
            status: 200,
            headers: { 'content-type': 'text/html' },
            body: '<html><body>Gateway Timeout</body></html>',
          }),
        },
        {
          name: 'NICEPAY object without resultCd',
          provider: 'nicepay',
          status: 'succeeded',
          fault: () => ({ status: 200, body: JSON.stringify({ resultMsg: 'system busy' }) }),
        },
        {
          name: "S88Pay's credential refusal (code 115)",
          provider: 's88pay',
          status: 'succeeded',
          fault: () => ({
            status: 200,
            body: JSON.stringify({
              success: false,
              code: 115,
              message: 'Invalid merchant api key',
              data: [],
            }),
          }),
        },
        {
          name: 'a 200 MB answer',
          provider: 'nicepay',
          status: 'succeeded',
          fault: () => ({ hugeBytes: 200 * 1024 * 1024 }),
        },
      ];
      try {
        for (const { name, provider, status, fault } of cases) {
          const before = proxy.requests.length;
          const rssBefore = process.memoryUsage().rss;
          proxy.set(fault);
          const created = await ledger(provider).create({
            status,
            reference: `ORD-TR-${kind}-${provider}-${before}`,
          });
          assert.equal(created.gatewayStatus, 200, name);
          await eventually(
            `${name}: asked twice`,
            async () => proxy.requests.length >= before + 2,
            20_000,
          );
          const grew = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
          assert.ok(grew < 150, `${name}: RSS grew ${grew.toFixed(0)} MB`);
          const key = keyOf(created.callback!);
          const rows = await hintsOf(key);
          assert.deepEqual(
            rows.map((row) => row.state),
            ['verifying'],
            `${name}: still waiting, not conflicted`,
          );
          assert.equal(eventsOf(key).length, 0, `${name}: nothing published`);
          proxy.set(null);
          await eventually(
            `${name}: published once the provider answers`,
            async () => eventsOf(key).length === 1,
            20_000,
          );
          assert.equal((await hintsOf(key))[0].state, 'confirmed');
        }
        assert.equal(trapped, 0, 'no request ever reached the host a redirect pointed at');
      } finally {
        proxy.set(null);
        trap.close();
      }
    });

    it('an answer that omits a fact the event needs confirms nothing: held as unconfirmed, then verified on request', async () => {
      const nicepay = sandbox.sandbox.provider<NicepaySandbox>('nicepay');
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      proxy.set(({ body }) => {
        const json = JSON.parse(body) as Body;
        if (json.tXid)
          return {
            status: 200,
            body: JSON.stringify({ resultCd: '0000', resultMsg: 'SUCCESS', status: '0' }),
          };
        return {
          rewrite: (answer) => {
            const details = { ...(answer.payment_details as Body) };
            delete details.amount;
            delete details.total_amount;
            const copy: Body = { ...answer, payment_details: details };
            delete copy.amount;
            return copy;
          },
        };
      });
      let nice: Awaited<ReturnType<NicepaySandbox['create']>>;
      let mcp: Awaited<ReturnType<McpaymentSandbox['create']>>;
      try {
        nice = await nicepay.create({
          status: 'succeeded',
          reference: `ORD-OMIT-${kind}`,
          send: false,
        });
        const form = nicepayForm(nice.callback!);
        // A tampered deposit: another order, in USD; the token still matches (it covers iMid, tXid, amt).
        const tampered = new URLSearchParams({
          ...form,
          referenceNo: `OTHER-${kind}`,
          currency: 'USD',
        });
        await sendCallback(bed.gateway.url, withBody(nice.callback!, tampered.toString()));
        mcp = await mcpayment.create({
          status: 'PAID',
          reference: `ORD-OMITM-${kind}`,
          send: false,
        });
        const body = JSON.parse(mcp.callback!.body!) as Body;
        const inflated = {
          ...body,
          payment_details: { ...(body.payment_details as Body), amount: 99999999 },
        };
        await sendCallback(bed.gateway.url, withBody(mcp.callback!, JSON.stringify(inflated)));
        for (const key of [form.tXid, body.transaction_id]) {
          const [row] = await eventually(
            `${String(key)} held`,
            async () => {
              const rows = await hintsOf(key);
              return rows.length === 1 && rows[0].state === 'unconfirmed' && rows;
            },
            20_000,
          );
          assert.match(row.detail ?? '', /does not state/);
          assert.equal(eventsOf(key).length, 0, 'never a confirmation');
        }
        const listed = (await (await admin('/admin/verifications?state=unconfirmed')).json()) as {
          items: Array<{ callbackId: string; claim: { amount: string } }>;
        };
        assert.ok(
          listed.items.some((item) => item.claim.amount === '99999999'),
          'listed, with what it claims',
        );
      } finally {
        proxy.set(null);
      }
      // The operator asks again once the provider answers properly. The inflated MCPayment claim
      // is refuted and the provider's answer (its own amount) is the event; the tampered NICEPAY
      // hint names an order the provider does not know (it is asked with the hint's referenceNo).
      const mcpBody = JSON.parse(mcp.callback!.body!) as Body;
      const [inflatedHint] = await hintsOf(mcpBody.transaction_id);
      const verified = await admin(`/admin/verifications/${inflatedHint.id}/verify`, {});
      assert.equal(verified.status, 200);
      const result = (await verified.json()) as {
        state: string;
        answer: { kind: string; amount: string; providerStatus: string };
        decision: string;
      };
      assert.equal(result.answer.kind, 'found');
      assert.equal(result.answer.providerStatus, 'PAID');
      assert.equal(result.state, 'conflicted');
      assert.match(result.decision, /succeeded/);
      const [paid] = await eventually("the provider's PAID", async () => {
        const events = eventsOf(mcpBody.transaction_id);
        return events.length > 0 && events;
      });
      assert.equal(paid.data.amount, String((mcpBody.payment_details as Body).amount));

      const form = nicepayForm(nice.callback!);
      const [tamperedHint] = await hintsOf(form.tXid);
      const asked = (await (
        await admin(`/admin/verifications/${tamperedHint.id}/verify`, {})
      ).json()) as { state: string; answer: { kind: string } };
      assert.equal(asked.answer.kind, 'unknown');
      assert.equal(asked.state, 'conflicted');
      assert.equal(eventsOf(form.tXid).length, 0);
      // The genuine deposit callback then confirms the provider's own facts.
      assert.equal((await sendCallback(bed.gateway.url, nice.callback!)).status, 200);
      const [event] = await eventually('the genuine deposit', async () => {
        const events = eventsOf(form.tXid);
        return events.length > 0 && events;
      });
      assert.equal(
        event.subject,
        `ORD-OMIT-${kind}`,
        "the provider's reference, not the tampered one",
      );
      assert.equal(event.data.currency, 'IDR');
    });

    it("the event carries the provider's answer, not a replay's unverified fields", async () => {
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      const mcp = await mcpayment.create({
        status: 'PAID',
        reference: `ORD-EVIL-${kind}`,
        send: false,
      });
      const body = JSON.parse(mcp.callback!.body!) as Body;
      const evil = {
        ...body,
        transaction_status: 'paid',
        payment_channel: 'EVILBANK',
        payment_method: 'CREDIT_CARD',
        customer_details: { ...(body.customer_details as Body), email: 'attacker@evil.example' },
      };
      await sendCallback(bed.gateway.url, withBody(mcp.callback!, JSON.stringify(evil)));
      const [event] = await eventually('the event', async () => {
        const events = eventsOf(body.transaction_id);
        return events.length > 0 && events;
      });
      assert.equal(event.data.verification.method, 'inquiry');
      assert.notEqual(event.data.channel, 'EVILBANK');
      assert.equal(event.data.providerStatus, 'PAID', "the provider's own word");
      assert.doesNotMatch(JSON.stringify(event), /EVILBANK|evil\.example/);
    });

    it('a flood of 1,000 variants of one captured callback is coalesced into one inquiry; another payment is not held behind it', async () => {
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      // A slow status API: the flood arrives while the first inquiry is in flight.
      proxy.set(() => ({ delayMs: 2_000 }));
      const captured = await mcpayment.create({
        status: 'PAID',
        reference: `ORD-FLOOD-${kind}`,
        send: false,
      });
      const body = JSON.parse(captured.callback!.body!) as Body;
      const id = String(body.transaction_id);
      const asked = () => proxy.requests.filter((r) => r.body.includes(id)).length;
      const variants = Array.from({ length: 1000 }, (_, i) =>
        withBody(
          captured.callback!,
          JSON.stringify({
            ...body,
            transaction_status: 'REFUNDED',
            refund_history: [
              {
                refund_amount: i + 1,
                refund_time: body.transaction_time,
                refund_reference_id: `RF${i}`,
              },
            ],
          }),
        ),
      );
      let askedWhenSettled: number;
      const floodStarted = Date.now();
      try {
        for (let i = 0; i < variants.length; i += 100) {
          const answers = await Promise.all(
            variants.slice(i, i + 100).map((v) => sendCallback(bed.gateway.url, v)),
          );
          assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
        }
        proxy.set(null);
        const other = await mcpayment.create({
          status: 'PAID',
          reference: `ORD-NOTBEHIND-${kind}`,
        });
        const otherId = (JSON.parse(other.callback!.body!) as Body).transaction_id;
        const started = Date.now();
        await eventually(
          'the other payment',
          async () => ofType(otherId, 'payment.succeeded').length === 1,
          10_000,
        );
        const waited = Date.now() - started;
        assert.ok(waited < 5_000, `the other payment waited ${waited} ms`);
        const rows = await settled(id, 1000);
        askedWhenSettled = asked();
        assert.equal(rows.length, 1000, 'every variant is stored');
        assert.ok(
          rows.every((row) => row.state === 'contradicted'),
          'each one settled by the answer',
        );
      } finally {
        proxy.set(null);
      }
      // Not one per variant: one inquiry at a time for the transaction (each taking 2 s while the
      // flood arrives), the re-asks after its contradicted claims (VERIFY_RECHECK_SECONDS=1,1,2)
      // and one more for what was stored meanwhile — bounded by time, not by the flood's size.
      const seconds = Math.ceil((Date.now() - floodStarted) / 1000);
      assert.ok(
        askedWhenSettled <= 3 + seconds && askedWhenSettled <= 40,
        `inquiries until every variant was settled: ${askedWhenSettled} in ${seconds} s for 1,000 variants`,
      );
      await sleep(1_500);
      // Then only the bounded re-ask schedule after a contradicted claim (VERIFY_RECHECK_SECONDS=1,1,2).
      assert.ok(asked() <= askedWhenSettled + 3, `inquiries in all: ${asked()}`);
      assert.equal(proxy.maxInFlight.get(id), 1, 'one inquiry at a time per transaction');
      assert.equal(ofType(id, 'payment.refunded').length, 0);
      assert.equal(ofType(id, 'payment.succeeded').length, 1, "the provider's PAID, once");
    });

    it("every verified provider's hint records the key that verified it (credential_key); S88Pay with an api_key containing %3D + / =", async () => {
      for (const [name, status] of [
        ['nicepay', 'succeeded'],
        ['mcpayment', 'PAID'],
        ['s88pay', 'succeeded'],
      ]) {
        const created = await ledger(name).create({ status, reference: `ORD-KEY-${kind}-${name}` });
        const key = keyOf(created.callback!);
        await eventually(`${name} verified`, async () => eventsOf(key).length === 1);
        const [row] = await hintsOf(key);
        assert.equal(row.state, 'confirmed', name);
        assert.ok(row.credential_key, `${name}: credential_key recorded`);
      }
    });

    it('operator actions go through the provider: renormalize asks, publish only what waits, audited with who and why', async () => {
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      // (a) A quarantined callback that a later release would read as PAID 99999999: renormalize
      //     makes it a hint; the provider (ACTIVE) is what counts.
      const active = await mcpayment.create({
        status: 'ACTIVE',
        reference: `ORD-QUAR-${kind}`,
        send: false,
      });
      const body = JSON.parse(active.callback!.body!) as Body;
      const id = body.transaction_id;
      const broken = {
        ...body,
        transaction_status: 'SETTLEMENT_PENDING_REVIEW',
        payment_details: 'not-an-object',
      };
      assert.equal(
        (await sendCallback(bed.gateway.url, withBody(active.callback!, JSON.stringify(broken))))
          .status,
        200,
      );
      const [quarantined] = await eventually('quarantined', async () => {
        const rows = await bed.db.query<{ id: string; quarantine: string }>(
          `SELECT id, quarantine FROM callbacks WHERE outcome = 'quarantined' AND raw_body LIKE ${ph(1)}`,
          [`%${String(id)}%`],
        );
        return rows.length > 0 && rows;
      });
      const fields = {
        ...body,
        transaction_status: 'PAID',
        payment_details: { ...(body.payment_details as Body), amount: 99999999 },
      };
      const stored = JSON.parse(quarantined.quarantine) as { errors: string[] };
      await bed.db.query(`UPDATE callbacks SET quarantine = ${ph(1)} WHERE id = ${ph(2)}`, [
        JSON.stringify({ errors: stored.errors, fields }),
        quarantined.id,
      ]);
      const renormalized = await admin(`/admin/callbacks/${quarantined.id}/renormalize`, {});
      assert.equal(renormalized.status, 202);
      assert.equal(((await renormalized.json()) as { outcome: string }).outcome, 'verifying');
      await eventually(
        "the provider's pending answer",
        async () => ofType(id, 'payment.pending').length === 1,
      );
      const [hint] = await settled(id, 1);
      assert.equal(hint.state, 'conflicted', 'it claims another amount than the provider states');
      assert.equal(
        ofType(id, 'payment.succeeded').length,
        0,
        'never the claim of a renormalized callback',
      );

      // (b) Renormalize of a stored answer, and of a confirmed callback: the provider is asked, nothing doubled.
      const paid = await mcpayment.create({ status: 'PAID', reference: `ORD-RENORM-${kind}` });
      const paidId = (JSON.parse(paid.callback!.body!) as Body).transaction_id;
      await eventually('paid', async () => ofType(paidId, 'payment.succeeded').length === 1);
      const records = await bed.db.query<{ id: string; method: string }>(
        `SELECT id, method FROM callbacks WHERE transaction_key = ${ph(1)} ORDER BY received_at`,
        [String(paidId)],
      );
      for (const record of records) {
        const res = await admin(`/admin/callbacks/${record.id}/renormalize`, {});
        assert.ok([200, 202].includes(res.status), `${record.method}: ${res.status}`);
        const result = (await res.json()) as { differences: string[] };
        assert.match(result.differences.join(' '), /asked/);
      }
      await sleep(800);
      assert.equal(eventsOf(paidId).length, 1, 'no second payment.succeeded, no payment.failed');

      // (c) Publish without verification: never a refuted hint; a waiting one with who and why.
      const [refuted] = await hintsOf(id);
      const refused = await admin(`/admin/verifications/${refuted.id}/publish`, {
        reason: 'customer says they paid',
      });
      assert.equal(refused.status, 409);
      assert.equal((await admin('/admin/verifications/not-a-uuid/verify', {})).status, 400);
      proxy.set(() => ({ status: 503, body: '{}' }));
      try {
        const waiting = await mcpayment.create({ status: 'PAID', reference: `ORD-OPER-${kind}` });
        const waitingId = (JSON.parse(waiting.callback!.body!) as Body).transaction_id;
        const [row] = await eventually('waiting', async () => {
          const rows = await hintsOf(waitingId);
          return rows.length === 1 && rows;
        });
        const nul = await admin(`/admin/verifications/${row.id}/publish`, {
          reason: 'checked \u0000 by phone',
        });
        assert.equal(nul.status, 400);
        const reason = 'checked with MCPayment support, ticket 4711';
        const published = await admin(`/admin/verifications/${row.id}/publish`, { reason });
        assert.equal(published.status, 200);
        const [event] = await eventually('the operator event', async () => {
          const events = eventsOf(waitingId);
          return events.length > 0 && events;
        });
        assert.equal(event.data.verification.method, 'operator');
        assert.equal(event.data.verification.reason, reason);
        // The shared ADMIN_API_KEY acts as the operator `admin`.
        assert.equal(event.data.verification.by, 'admin');
        const audit = await bed.db.query<{ details: string }>(
          `SELECT details FROM admin_audit WHERE action = 'verifications.publish-unverified'`,
        );
        assert.ok(
          audit.some((a) => String(a.details).includes(reason)),
          'the reason is in the audit trail',
        );
        assert.equal(
          (await admin(`/admin/verifications/${row.id}/publish`, { reason })).status,
          409,
        );
      } finally {
        proxy.set(null);
      }
    });
  });
}
