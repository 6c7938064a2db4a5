import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import {
  type ExpectedPayment,
  expectPayment,
} from '../../examples/order-service/src/expect-payment.js';
import { REJECTION_REASON_HEADER } from '../../src/messaging/commands.js';
import { PROVIDER_ENV } from '../support/credentials.js';
import type { McpaymentSandbox } from '../../src/providers/mcpayment/mcpayment.sandbox.js';
import { AMQP_URL, sleep } from '../support/broker.js';
import type { DatabaseKind } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { inquiryEnv, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { StatusApiProxy } from '../support/status-api-proxy.js';
import { eventually } from './verification.suite.js';

const ADMIN_KEY = 'expected-test-admin-key-0123456789abc';
type Body = Record<string, unknown>;

/**
 * Expected payments (issue 24): the order service says which payments it created; the gateway
 * follows each by inquiry — through the provider sandbox over real HTTP — until it is final or its
 * expiry passed, even when no callback ever comes.
 */
export function expectedSuite(kind: DatabaseKind): void {
  describe(`expected payments are followed to a final state (${kind})`, () => {
    let sandbox: TestSandbox;
    let proxy: StatusApiProxy;
    let bed: TestBed;
    const commands = `test.expected.${randomUUID().slice(0, 8)}`;

    before(async () => {
      sandbox = await startTestSandbox();
      proxy = new StatusApiProxy(sandbox.sandbox.url, (_path, body) => {
        try {
          return String((JSON.parse(body) as Body).transaction_id ?? body);
        } catch {
          return body;
        }
      });
      await proxy.start();
      bed = await createTestBed(kind, {
        ...inquiryEnv(proxy.url),
        VERIFY_RETRY_MAX_SECONDS: '1',
        EXPECTED_MIN_INTERVAL_SECONDS: '1',
        EXPECTED_MAX_INTERVAL_SECONDS: '1',
        RECONCILE_AFTER_SECONDS: '3600',
        ADMIN_API_KEY: ADMIN_KEY,
        EXPECTED_COMMANDS_QUEUE: commands,
      });
      sandbox.sandbox.setGatewayUrl(bed.gateway.url);
    });
    after(async () => {
      await bed.teardown();
      const connection = await amqplib.connect(AMQP_URL);
      const channel = await connection.createChannel();
      for (const queue of [commands, `${commands}.dead-letter`]) await channel.deleteQueue(queue);
      await connection.close();
      await proxy.close();
      await sandbox.sandbox.close();
    });

    const mcpayment = () => sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
    const eventsOf = (id: unknown) =>
      bed.tap.bodies().filter((body) => body.data.providerTransactionId === id);
    const admin = (path: string, body?: unknown) =>
      fetch(`${bed.gateway.managementUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'x-admin-key': ADMIN_KEY, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    /** A pending MCPayment payment held by the sandbox, whose callbacks are never sent. */
    const silentPayment = async (reference: string) => {
      const created = await mcpayment().create({ status: 'ACTIVE', reference, send: false });
      const body = JSON.parse(created.callback!.body!) as Body;
      return { key: created.key, body, callback: created.callback! };
    };
    const expectation = (body: Body, expiresInMs: number) => ({
      provider: 'mcpayment',
      account: 'default',
      providerTransactionId: body.transaction_id,
      merchantReference: body.order_id,
      amount: String((body.payment_details as Body).amount),
      currency: 'IDR',
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
      details: {
        externalId: body.external_id,
        paymentMethod: body.payment_method,
        paymentChannel: body.payment_channel,
      },
    });
    const stateOf = async (id: unknown) =>
      (
        (await (await admin('/admin/expected-payments?state=settled&limit=1000')).json()) as {
          items: Array<{ transactionKey: string; state: string; foundByInquiry: boolean }>;
        }
      ).items.find((item) => item.transactionKey === id);
    const metric = async (name: string) => {
      const text = await (await fetch(`${bed.gateway.managementUrl}/metrics`)).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith(name))
        .map((line) => line.split(' '));
    };

    it('a payment expected, its callback never sent, is published once the provider says paid; a repeat is idempotent, a conflicting one refused', async () => {
      const { key, body } = await silentPayment(`ORD-EXPECT-${kind}`);
      const expected = expectation(body, 60_000);
      const created = await admin('/payments/expected', expected);
      assert.equal(created.status, 201);
      const repeat = await admin('/payments/expected', expected);
      assert.equal(repeat.status, 200, 'the same payment again: its state');
      const conflicting = await admin('/payments/expected', { ...expected, amount: '99999999' });
      assert.equal(conflicting.status, 409);
      assert.match(((await conflicting.json()) as { message: string }).message, /amount/);

      await eventually('asked about it', async () =>
        proxy.requests.some((r) => r.body.includes(String(body.transaction_id))),
      );
      assert.equal(
        eventsOf(body.transaction_id).filter((b) => b.type !== 'payment.pending').length,
        0,
      );
      await mcpayment().update(key, { status: 'PAID', send: false });
      const [paid] = await eventually('the payment, found by inquiry', async () => {
        const events = eventsOf(body.transaction_id).filter((b) => b.type === 'payment.succeeded');
        return events.length > 0 && events;
      });
      assert.equal(paid.data.verification.method, 'reconciliation');
      assert.equal(paid.data.amount, String((body.payment_details as Body).amount));
      const state = await eventually('settled', async () => stateOf(body.transaction_id));
      assert.equal(state.state, 'settled');
      assert.equal(state.foundByInquiry, true, 'no callback ever came');
      const found = await metric('gateway_expected_payments_found_by_inquiry_total');
      assert.ok(found.some(([label, value]) => label.includes('mcpayment') && Number(value) >= 1));
      const asked = proxy.requests.filter((r) =>
        r.body.includes(String(body.transaction_id)),
      ).length;
      await sleep(2_500);
      assert.equal(
        proxy.requests.filter((r) => r.body.includes(String(body.transaction_id))).length,
        asked,
        'not asked again once final',
      );
      assert.equal(
        eventsOf(body.transaction_id).filter((b) => b.type === 'payment.succeeded').length,
        1,
      );
    });

    it('a callback arriving first simply moves the state: no second event', async () => {
      const { key, body } = await silentPayment(`ORD-EXPECT-CB-${kind}`);
      assert.equal((await admin('/payments/expected', expectation(body, 60_000))).status, 201);
      const paid = await mcpayment().update(key, { status: 'PAID', send: true });
      assert.equal(paid.gatewayStatus, 200);
      await eventually('one payment.succeeded', async () =>
        eventsOf(body.transaction_id).some((b) => b.type === 'payment.succeeded'),
      );
      const state = await eventually('settled', async () => stateOf(body.transaction_id));
      assert.equal(state.foundByInquiry, false, 'its callback came');
      await sleep(2_500);
      assert.equal(
        eventsOf(body.transaction_id).filter((b) => b.type === 'payment.succeeded').length,
        1,
      );
    });

    it('after its expiry: expired where the provider says so; overdue and listed where it still says unpaid', async () => {
      const expiring = await silentPayment(`ORD-EXPECT-EXP-${kind}`);
      const unpaid = await silentPayment(`ORD-EXPECT-UNPAID-${kind}`);
      assert.equal(
        (await admin('/payments/expected', expectation(expiring.body, 3_000))).status,
        201,
      );
      assert.equal(
        (await admin('/payments/expected', expectation(unpaid.body, 3_000))).status,
        201,
      );
      await sleep(2_000);
      await mcpayment().update(expiring.key, { status: 'EXPIRED', send: false });
      const [expired] = await eventually('payment.expired', async () => {
        const events = eventsOf(expiring.body.transaction_id).filter(
          (b) => b.type === 'payment.expired',
        );
        return events.length > 0 && events;
      });
      assert.equal(expired.data.verification.method, 'reconciliation');
      const overdue = await eventually('the unpaid one listed', async () => {
        const { items } = (await (
          await admin('/admin/expected-payments?state=overdue')
        ).json()) as {
          items: Array<{ transactionKey: string; state: string; overdue: boolean }>;
        };
        return items.find(
          (item) => item.transactionKey === unpaid.body.transaction_id && item.state === 'overdue',
        );
      });
      assert.equal(overdue.overdue, true);
    });

    it('a provider down during the whole window leaves the payment overdue and alerting, not lost', async () => {
      const { key, body } = await silentPayment(`ORD-EXPECT-DOWN-${kind}`);
      proxy.set(() => ({ status: 503, body: '{}' }));
      try {
        assert.equal((await admin('/payments/expected', expectation(body, 2_000))).status, 201);
        await mcpayment().update(key, { status: 'PAID', send: false });
        await sleep(3_500);
        const [[, overdue]] = await metric('gateway_expected_payments_overdue');
        assert.ok(Number(overdue) >= 1, `gateway_expected_payments_overdue ${overdue}`);
        const { items } = (await (
          await admin('/admin/expected-payments?state=overdue')
        ).json()) as {
          items: Array<{ transactionKey: string; state: string }>;
        };
        const mine = items.find((item) => item.transactionKey === body.transaction_id);
        assert.equal(mine?.state, 'open', 'still followed: the provider never answered');
        assert.equal(eventsOf(body.transaction_id).length, 0);
      } finally {
        proxy.set(null);
      }
      await eventually('published once the provider answers', async () =>
        eventsOf(body.transaction_id).some((b) => b.type === 'payment.succeeded'),
      );
    });

    it('npm run simulate -- expect nicepay: a payment whose callbacks never come is found by inquiry', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gw-expect-'));
      const script = fileURLToPath(new URL('../../src/bin/simulate.js', import.meta.url));
      try {
        // Asynchronously: the gateway under test runs in this process.
        const result = await promisify(execFile)(
          process.execPath,
          [script, 'expect', 'nicepay', '--pay-after', '1', '--expires', '20'],
          {
            cwd: dir,
            env: {
              PATH: process.env.PATH ?? '',
              NODE_ENV: 'test',
              ...PROVIDER_ENV,
              ...inquiryEnv(proxy.url),
              ADMIN_API_KEY: ADMIN_KEY,
              AMQP_URL,
              EVENTS_EXCHANGE: bed.exchange,
              HOST: '127.0.0.1',
              PORT: new URL(bed.gateway.managementUrl).port,
            },
            encoding: 'utf8',
            timeout: 60_000,
          },
        );
        assert.match(result.stdout, /POST \/payments\/expected .* → 201/);
        assert.match(
          result.stdout,
          /< event payment\.succeeded\.nicepay: .*verification reconciliation/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('payment.expected commands on RabbitMQ: followed like POST; a conflicting repeat and a malformed one are dead-lettered with the reason', async () => {
      const { key, body } = await silentPayment(`ORD-EXPECT-CMD-${kind}`);
      const expected = expectation(body, 60_000);
      const connection = await amqplib.connect(AMQP_URL);
      try {
        const channel = await connection.createConfirmChannel();
        const send = async (data: unknown) => {
          const command = {
            specversion: '1.0',
            id: randomUUID(),
            source: '/order-service',
            type: 'payment.expected',
            datacontenttype: 'application/json',
            data,
          };
          channel.sendToQueue(commands, Buffer.from(JSON.stringify(command)), {
            persistent: true,
            messageId: command.id,
            contentType: 'application/cloudevents+json',
          });
          await channel.waitForConfirms();
        };
        await eventually('the command consumer', async () => {
          const info = await channel.checkQueue(commands).catch(() => null);
          return (info?.consumerCount ?? 0) > 0;
        });
        // The valid one as the example order service sends it.
        await expectPayment(AMQP_URL, commands, expected as ExpectedPayment);
        await send({ ...expected, amount: '99999999' });
        await send({ ...expected, details: undefined, providerTransactionId: 'other-tx' });
        const reasons: string[] = [];
        await eventually('two dead letters', async () => {
          const message = await channel.get(`${commands}.dead-letter`, { noAck: true });
          if (message) reasons.push(String(message.properties.headers?.[REJECTION_REASON_HEADER]));
          return reasons.length >= 2;
        });
        assert.ok(
          reasons.some((reason) => /another amount/.test(reason)),
          reasons.join(' | '),
        );
        assert.ok(
          reasons.some((reason) => /details\.externalId/.test(reason)),
          reasons.join(' | '),
        );
      } finally {
        await connection.close();
      }
      await mcpayment().update(key, { status: 'PAID', send: false });
      await eventually('the payment, found by inquiry', async () =>
        eventsOf(body.transaction_id).some((b) => b.type === 'payment.succeeded'),
      );
    });

    it('refuses what the provider cannot be asked with, naming it', async () => {
      const refused = await admin('/payments/expected', {
        provider: 'mcpayment',
        account: 'default',
        providerTransactionId: 'tx-1',
        merchantReference: 'ORD-1',
        amount: '1000',
        currency: 'IDR',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      });
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { message: string }).message, /details\.externalId/);
      const sidopulsa = await admin('/payments/expected', {
        provider: 'sidopulsa',
        account: 'default',
        merchantReference: 'ORD-1',
        amount: '1000',
        currency: 'IDR',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      });
      assert.equal(sidopulsa.status, 400);
      const audit = await bed.db.query<{ action: string }>(
        `SELECT action FROM admin_audit WHERE action = 'payments.expect'`,
      );
      assert.ok(audit.length >= 2, 'every expectation is audited');
    });
  });
}
