import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { SnapSandbox } from '../../src/providers/snap/snap.sandbox.js';
import type { RunningSandbox } from '../../src/dev/sandbox.js';
import { sleep } from '../support/broker.js';
import type { DatabaseKind } from '../support/databases.js';
import type { TestBed } from '../support/gateway.js';
import { snapDemoBed, type SnapDemoBed } from '../support/snap-demo.js';
import { type CommandResult, runCommand } from '../support/run-command.js';

/**
 * `npm run simulate -- snap <profile>` against a real gateway configured with the demo's SNAP
 * accounts (one per shipped profile) and the provider sandbox playing NICEPAY SNAP's status API:
 * every profile ends with a published, verified event — on both databases.
 */

const SIMULATE_JS = fileURLToPath(new URL('../../src/bin/simulate.js', import.meta.url));
const PROFILES = ['nicepay-snap', 'ifortepay-snap', 'doku-snap', 'midtrans-snap'] as const;

for (const kind of ['postgres', 'sqlite'] as DatabaseKind[]) {
  describe(`simulate -- snap <profile> against a real gateway (${kind})`, () => {
    let demo: SnapDemoBed;
    let bed: TestBed;
    let sandbox: RunningSandbox;
    let accountsFile: string;

    before(async () => {
      demo = await snapDemoBed(kind);
      ({ bed, sandbox, accountsFile } = demo);
    });
    after(() => demo?.teardown());

    function simulate(args: string[]): Promise<CommandResult> {
      return runCommand(
        process.execPath,
        [SIMULATE_JS, 'snap', ...args, '--url', bed.gateway.url],
        {
          cwd: demo.dir,
          env: { NODE_ENV: 'test', ACCOUNTS_FILE: accountsFile },
          timeoutMs: 30_000,
        },
      );
    }

    async function eventOf(subject: string, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = bed.tap.bodies().findIndex((body) => body.subject === subject);
        if (index >= 0)
          return {
            data: bed.tap.bodies()[index].data as Record<string, unknown>,
            routingKey: bed.tap.messages[index].fields.routingKey,
          };
        if (Date.now() > deadline) throw new Error(`No event with subject ${subject}`);
        await sleep(25);
      }
    }

    for (const profile of PROFILES) {
      it(`${profile}: signed as its provider, 200 2002500, then one verified payment.succeeded.snap`, async () => {
        const reference = `CLI-${profile}-${kind}-${Date.now()}`.toUpperCase();
        const result = await simulate([profile, '--reference', reference]);
        assert.equal(result.code, 0, result.stderr + result.stdout);
        assert.match(
          result.stdout,
          new RegExp(
            `> POST ${bed.gateway.url}/callbacks/snap/${profile}/v1.0/transfer-va/payment`,
          ),
        );
        assert.match(result.stdout, /> x-signature: [A-Za-z0-9+/]+=*\n/);
        assert.match(result.stdout, /> x-timestamp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00/);
        assert.match(result.stdout, /< 200 OK/);
        assert.match(result.stdout, /"responseCode": "2002500"/);
        if (profile === 'doku-snap')
          assert.match(result.stdout, /access token obtained from the gateway: .* → 200/);
        if (profile === 'nicepay-snap') assert.match(result.stdout, /held by the provider sandbox/);
        const event = await eventOf(reference);
        assert.equal(event.routingKey, 'payment.succeeded.snap');
        assert.equal(event.data.status, 'succeeded');
        assert.equal(event.data.account, profile);
        assert.equal(event.data.amount, '10000');
        assert.equal(event.data.currency, 'IDR');
        if (profile === 'nicepay-snap') {
          // Family A does not sign the body: the event is the status API's answer.
          const held = sandbox.provider<SnapSandbox>('snap').list();
          const entry = held.find((e) => e.transaction.reference === reference);
          assert.ok(entry && entry.inquiries >= 1, 'the gateway asked the status API');
        }
      });
    }

    it('another service and status: midtrans-snap QR MPM notify 52 failed → payment.failed.snap', async () => {
      const reference = `CLI-QR-${kind}-${Date.now()}`.toUpperCase();
      const result = await simulate([
        'midtrans-snap',
        '--service',
        '52',
        '--status',
        'failed',
        '-r',
        reference,
      ]);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stdout, /\/v1\.0\/qr\/qr-mpm-notify/);
      assert.match(result.stdout, /"latestTransactionStatus": "06"/);
      assert.match(result.stdout, /"responseCode": "2005200"/);
      assert.equal((await eventOf(reference)).routingKey, 'payment.failed.snap');
    });

    it('refuses what it cannot send, naming the problem', async () => {
      const unknown = await simulate(['paypal-snap']);
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        /No SNAP account or profile "paypal-snap": configured are nicepay-snap \(nicepay-snap\)/,
      );
      const notPaid = await simulate(['nicepay-snap', '--status', 'expired']);
      assert.equal(notPaid.code, 1);
      assert.match(notPaid.stderr, /sent when the VA is paid/);
      const service = await simulate(['nicepay-snap', '--service', '52']);
      assert.equal(service.code, 1);
      assert.match(service.stderr, /does not receive service 52/);
      const missing = await simulate([]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Give one SNAP profile or account/);
    });
  });
}
