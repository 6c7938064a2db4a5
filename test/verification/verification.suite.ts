import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { McpaymentSandbox } from '../../src/providers/mcpayment/mcpayment.sandbox.js';
import type { NicepaySandbox } from '../../src/providers/nicepay/nicepay.sandbox.js';
import type { SandboxCallback, SandboxLedger } from '../../src/sandbox/sandbox-ledger.js';
import { sleep } from '../support/broker.js';
import { PROVIDER_ENV } from '../support/credentials.js';
import type { McpaymentBody } from '../support/mcpayment.js';
import type { DatabaseKind } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { inquiryEnv, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { assertClockVersion } from '../support/versions.js';

export const ADMIN_KEY = 'verification-test-admin-key-0123456789';

/** Polls until `check` returns a value (not undefined / false), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

export function sendCallback(gatewayUrl: string, callback: SandboxCallback) {
  return fetch(`${gatewayUrl}${callback.path}`, {
    method: callback.method,
    headers: callback.headers,
    body: callback.body,
  });
}

type Ledger = SandboxLedger<unknown>;

/**
 * Status inquiry after the ack, against the provider sandbox over real HTTP, on one database:
 * verified events, replays that the inquiry exposes, an outage of the status APIs, and
 * reconciliation of a payment whose callback never came.
 */
export function verificationSuite(kind: DatabaseKind): void {
  describe(`verification by status inquiry (${kind})`, () => {
    let sandbox: TestSandbox;
    let proxy: TcpProxy;
    let bed: TestBed;

    before(async () => {
      sandbox = await startTestSandbox();
      // The gateway reaches the status APIs through a relay, so a test can take them offline.
      proxy = new TcpProxy('127.0.0.1', sandbox.sandbox.port);
      await proxy.start();
      bed = await createTestBed(kind, {
        ...inquiryEnv(`http://127.0.0.1:${proxy.port}`),
        VERIFY_RETRY_MAX_SECONDS: '2',
        RECONCILE_AFTER_SECONDS: '1',
        RECONCILE_INTERVAL_SECONDS: '1',
        ADMIN_API_KEY: ADMIN_KEY,
      });
      sandbox.sandbox.setGatewayUrl(bed.gateway.url);
    });
    after(async () => {
      await bed.teardown();
      await proxy.cut();
      await sandbox.sandbox.close();
    });

    const ledger = (name: string) => sandbox.sandbox.provider<Ledger>(name);
    const eventsFor = (reference: string) =>
      bed.tap.bodies().filter((body) => body.subject === reference);
    const verificationOf = async (callbackId: string) =>
      (
        await bed.db.query<{ state: string; detail: string | null }>(
          `SELECT state, detail FROM verifications WHERE callback_id = $1`.replace(
            '$1',
            kind === 'postgres' ? '$1' : '?',
          ),
          [callbackId],
        )
      )[0];
    const callbackRows = (reference: string) =>
      bed.db.query<{ id: string; outcome: string; method: string; status: string }>(
        `SELECT id, outcome, method, status FROM callbacks WHERE merchant_reference = ${kind === 'postgres' ? '$1' : '?'} ORDER BY received_at`,
        [reference],
      );

    it('each provider: a genuine callback becomes an event carrying data.verification (inquiry), once asked', async () => {
      for (const name of ['nicepay', 'mcpayment', 's88pay']) {
        const reference = `ORD-VERIFY-${kind}-${name}`;
        const created = await ledger(name).create({ status: 'succeeded', reference });
        assert.equal(created.gatewayStatus, 200, `${name} acknowledged`);
        const [event] = await eventually(`${name} verified event`, async () => {
          const events = eventsFor(reference);
          return events.length > 0 && events;
        });
        assert.equal(event.type, 'payment.succeeded');
        assert.equal(event.data.verification.method, 'inquiry');
        assert.ok(Date.parse(event.data.verification.at) >= Date.parse(event.data.receivedAt));
        assertClockVersion(event.data.transactionVersion, event.data.receivedAt);
        assert.equal(ledger(name).get(created.key)?.inquiries, 1, `${name} asked once`);
        const [row] = await callbackRows(reference);
        assert.equal(row.outcome, 'accepted');
        assert.equal((await verificationOf(row.id)).state, 'confirmed');
      }
    });

    it('callbacks arriving together, each sent three times at once: one stored callback, one inquiry and one event each', async () => {
      const held: Array<{
        name: string;
        reference: string;
        key: string;
        callback: SandboxCallback;
      }> = [];
      for (const name of ['nicepay', 'mcpayment', 's88pay']) {
        for (let i = 0; i < 10; i += 1) {
          const reference = `ORD-BURST-${kind}-${name}-${i}`;
          const created = await ledger(name).create({
            status: 'succeeded',
            reference,
            send: false,
          });
          held.push({ name, reference, key: created.key, callback: created.callback! });
        }
      }
      const answers = await Promise.all(
        held.flatMap(({ callback }) =>
          [1, 2, 3].map(() => sendCallback(bed.gateway.url, callback)),
        ),
      );
      assert.deepEqual(
        [...new Set(answers.map((res) => res.status))],
        [200],
        'every copy acknowledged like the original',
      );
      await eventually('every burst event', async () =>
        held.every(({ reference }) => eventsFor(reference).length > 0),
      );
      await sleep(500);
      for (const { name, reference, key } of held) {
        assert.equal(eventsFor(reference).length, 1, `${reference}: one event`);
        assert.equal(ledger(name).get(key)?.inquiries, 1, `${reference}: asked once`);
        const rows = (await callbackRows(reference)).filter((row) => row.method !== 'INQUIRY');
        assert.deepEqual(
          rows.map((row) => row.outcome),
          ['accepted'],
          `${reference}: one stored callback`,
        );
        assert.equal((await verificationOf(rows[0].id)).state, 'confirmed');
      }
    });

    it('NICEPAY: a captured deposit replayed as a reversal of another referenceNo publishes nothing (conflicted)', async () => {
      const nicepay = sandbox.sandbox.provider<NicepaySandbox>('nicepay');
      const reference = `ORD-NICE-REPLAY-${kind}`;
      const genuine = await nicepay.create({ status: 'succeeded', reference });
      await eventually('the genuine deposit event', async () => eventsFor(reference).length === 1);
      // The merchantToken covers iMid + tXid + amt only: status and referenceNo can be changed.
      const fields = Object.fromEntries(new URLSearchParams(genuine.callback!.body));
      const replayReference = `VICTIM-ORDER-${kind}`;
      const replay = {
        ...genuine.callback!,
        body: new URLSearchParams({
          ...fields,
          status: '1',
          referenceNo: replayReference,
        }).toString(),
      };
      const res = await sendCallback(bed.gateway.url, replay);
      assert.equal(res.status, 200, 'the token is valid: acknowledged and stored');
      const [stored] = await eventually('the replay stored', async () => {
        const rows = await callbackRows(replayReference);
        return rows.length > 0 && rows[0].outcome !== 'verifying' && rows;
      });
      assert.equal(stored.outcome, 'conflicted');
      const verification = await verificationOf(stored.id);
      assert.equal(verification.state, 'conflicted');
      // Asked with the way the provider confirmed before (the genuine deposit): its answer names
      // another referenceNo than the replay claims.
      assert.match(verification.detail ?? '', /merchant reference|does not confirm/);
      await sleep(500);
      assert.deepEqual(
        bed.tap
          .bodies()
          .filter(
            (b) => b.type === 'payment.reversed' && b.data.providerTransactionId === fields.tXid,
          ),
        [],
        'no payment.reversed',
      );
      assert.equal(eventsFor(replayReference).length, 0);
    });

    it('MCPayment: a captured callback replayed as REFUNDED with amount 1, and with the id split shifted, publishes nothing', async () => {
      const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
      const reference = `ORD-MCP-REPLAY-${kind}`;
      const genuine = await mcpayment.create({ status: 'PAID', reference });
      await eventually('the genuine PAID event', async () => eventsFor(reference).length === 1);
      const body = JSON.parse(genuine.callback!.body!) as McpaymentBody;

      // 1. Same ids (the mcp-signature stays valid), status and amount rewritten.
      const refunded = {
        ...body,
        transaction_status: 'REFUNDED',
        payment_details: { ...body.payment_details, amount: 1 },
        refund_history: [
          { refund_amount: 1, refund_time: body.transaction_time, refund_reference_id: 'RF1' },
        ],
      };
      assert.equal(
        (
          await sendCallback(bed.gateway.url, {
            ...genuine.callback!,
            body: JSON.stringify(refunded),
          })
        ).status,
        200,
      );

      // 2. external_id + order_id are hashed without a separator: move one character across
      //    (and void it, so it is not a mere copy of the genuine PAID).
      const shiftedOrder = body.order_id.slice(1);
      const shifted = {
        ...body,
        transaction_status: 'CANCELED',
        external_id: body.external_id + body.order_id[0],
        order_id: shiftedOrder,
      };
      assert.equal(
        (
          await sendCallback(bed.gateway.url, {
            ...genuine.callback!,
            body: JSON.stringify(shifted),
          })
        ).status,
        200,
      );

      for (const ref of [reference, shiftedOrder]) {
        await eventually(`replays of ${ref} settled`, async () => {
          const rows = await callbackRows(ref);
          return rows.every((row) => row.outcome !== 'verifying') && rows;
        });
      }
      const rows = [
        ...(await callbackRows(reference)),
        ...(await callbackRows(shiftedOrder)),
      ].filter((row) => row.method !== 'INQUIRY');
      assert.deepEqual(rows.map((row) => `${row.status}:${row.outcome}`).sort(), [
        'cancelled:conflicted',
        'refunded:conflicted',
        'succeeded:accepted',
      ]);
      await sleep(500);
      assert.equal(eventsFor(reference).length, 1, 'only the genuine PAID event');
      assert.equal(eventsFor(shiftedOrder).length, 0);
    });

    it('status APIs down for 30 s: every callback is acknowledged, none published unverified, each once after', async () => {
      await proxy.cut();
      const created: Array<{ name: string; reference: string }> = [];
      const started = Date.now();
      let i = 0;
      try {
        while (Date.now() - started < 30_000) {
          for (const name of ['nicepay', 'mcpayment', 's88pay']) {
            const reference = `ORD-OUTAGE-${kind}-${name}-${i}`;
            const result = await ledger(name).create({ status: 'succeeded', reference });
            assert.equal(result.gatewayStatus, 200, 'acknowledged while the provider is down');
            created.push({ name, reference });
          }
          i += 1;
          await sleep(2_500);
        }
        assert.equal(
          created.filter(({ reference }) => eventsFor(reference).length > 0).length,
          0,
          'nothing published unverified',
        );
        const metrics = await (await fetch(`${bed.gateway.url}/metrics`)).text();
        const oldest = Number(/^gateway_verification_oldest_seconds (\S+)$/m.exec(metrics)?.[1]);
        assert.ok(oldest >= 25, `gateway_verification_oldest_seconds ${oldest}`);
        assert.match(
          metrics,
          /gateway_verifications_total\{provider="nicepay",result="unavailable"\} [1-9]/,
        );
      } finally {
        await proxy.restore();
      }
      await eventually(
        'every held event published',
        async () => created.every(({ reference }) => eventsFor(reference).length > 0),
        45_000,
      );
      await sleep(1_500);
      for (const { reference } of created) assert.equal(eventsFor(reference).length, 1, reference);
    });

    it('reconciliation finds a payment whose callback never came, and publishes it once', async () => {
      const mcpayment = ledger('mcpayment');
      const reference = `ORD-RECONCILE-${kind}`;
      const created = await mcpayment.create({ status: 'ACTIVE', reference });
      await eventually('the pending event', async () => eventsFor(reference).length === 1);
      // Paid at the provider; its callback is never sent.
      await mcpayment.update(created.key, { status: 'PAID', send: false });
      const succeeded = await eventually('the reconciled event', async () =>
        eventsFor(reference).find((body) => body.type === 'payment.succeeded'),
      );
      assert.equal(succeeded.data.verification.method, 'reconciliation');
      assert.equal(succeeded.data.previousStatus, 'pending');
      assertClockVersion(succeeded.data.transactionVersion, succeeded.data.receivedAt);
      const rows = await callbackRows(reference);
      const record = rows.find((row) => row.method === 'INQUIRY' && row.status === 'succeeded');
      assert.ok(record, "the provider's answer is stored");
      await sleep(3_000); // three more reconciliation passes
      assert.equal(eventsFor(reference).filter((b) => b.type === 'payment.succeeded').length, 1);
    });

    it('npm run simulate registers the simulated payment with the sandbox, so the inquiry confirms it', async () => {
      const reference = `ORD-SIMULATE-${kind}`;
      const dir = mkdtempSync(join(tmpdir(), 'gw-simulate-'));
      const script = fileURLToPath(new URL('../../src/bin/simulate.js', import.meta.url));
      // Asynchronously: the gateway under test runs in this process.
      const result = await promisify(execFile)(
        process.execPath,
        [
          script,
          'nicepay',
          '--status',
          'succeeded',
          '--reference',
          reference,
          '--url',
          bed.gateway.url,
        ],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? '',
            NODE_ENV: 'test',
            ...PROVIDER_ENV,
            ...inquiryEnv(`http://127.0.0.1:${proxy.port}`),
          },
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      rmSync(dir, { recursive: true, force: true });
      assert.match(result.stdout, /held by the provider sandbox/);
      const event = await eventually(
        'the simulated payment, verified',
        async () => eventsFor(reference)[0],
      );
      assert.equal(event.data.verification.method, 'inquiry');
    });

    it('admin: conflicted callbacks are listed; a refuted one cannot be published; the attempt is audited', async () => {
      const headers = { 'x-admin-key': ADMIN_KEY, 'content-type': 'application/json' };
      const list = await fetch(`${bed.gateway.url}/admin/verifications?state=conflicted`, {
        headers,
      });
      assert.equal(list.status, 200);
      const { items } = (await list.json()) as {
        items: Array<{ callbackId: string; provider: string }>;
      };
      assert.ok(items.length >= 3, `conflicted: ${items.length}`);
      const target = items.find((item) => item.provider === 'nicepay')!;
      const refused = await fetch(
        `${bed.gateway.url}/admin/verifications/${target.callbackId}/publish`,
        {
          method: 'POST',
          headers,
          body: JSON.stringify({}),
        },
      );
      assert.equal(refused.status, 400, 'a reason is required');
      // A callback the provider refuted is never published, not even by an operator.
      const published = await fetch(
        `${bed.gateway.url}/admin/verifications/${target.callbackId}/publish`,
        {
          method: 'POST',
          headers,
          body: JSON.stringify({ reason: 'checked with NICEPAY support, ticket 1' }),
        },
      );
      assert.equal(published.status, 409);
      assert.match(
        ((await published.json()) as { message: string }).message,
        /conflicted: only a callback still verifying or unconfirmed/,
      );
      const audit = await bed.db.query<{ action: string }>(`SELECT action FROM admin_audit`);
      assert.ok(audit.some((row) => row.action === 'verifications.publish-unverified'));
    });
  });
}
