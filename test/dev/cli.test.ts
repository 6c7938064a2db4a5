import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SIMULATORS } from '../../src/dev/simulators.js';
import { AMQP_URL, sleep } from '../support/broker.js';
import { PPOB, PROVIDER_ENV } from '../support/credentials.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { type CommandResult, runCommand } from '../support/run-command.js';

/** The compiled CLIs, next to the compiled tests (dist/ or any other outDir). */
const SIMULATE_JS = fileURLToPath(new URL('../../src/bin/simulate.js', import.meta.url));
const EVENTS_JS = fileURLToPath(new URL('../../src/bin/events.js', import.meta.url));

/** Runs a CLI in an empty directory (no .env) with exactly `env` (plus PATH). */
function run(
  script: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<CommandResult> {
  return runCommand(process.execPath, [script, ...args], {
    cwd: cwd ?? emptyDir,
    env: { NODE_ENV: 'test', ...env },
    timeoutMs: 30_000,
  });
}

let emptyDir: string;

describe('the simulate and events CLIs against a real gateway', () => {
  let bed: TestBed;
  before(async () => {
    emptyDir = mkdtempSync(join(tmpdir(), 'gw-cli-'));
    bed = await createTestBed('postgres');
  });
  after(async () => {
    await bed.teardown();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  async function waitForSubject(subject: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = bed.tap.bodies().findIndex((b) => b.subject === subject);
      if (index >= 0) return bed.tap.messages[index];
      if (Date.now() > deadline) throw new Error(`No event with subject ${subject}`);
      await sleep(25);
    }
  }

  it('simulate nicepay: prints the signed request and the 200, exits 0, the event is published', async () => {
    const reference = `CLI-NP-${Date.now()}`;
    const result = await run(
      SIMULATE_JS,
      ['nicepay', '--status', 'succeeded', '--url', bed.gateway.url, '--reference', reference],
      PROVIDER_ENV,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`> POST ${bed.gateway.url}/callbacks/nicepay`));
    assert.match(result.stdout, /> content-type: application\/x-www-form-urlencoded/);
    assert.match(result.stdout, /merchantToken=[0-9a-f]{64}/);
    assert.match(result.stdout, new RegExp(`referenceNo=${reference}`));
    assert.match(result.stdout, /< 200 OK/);
    assert.match(result.stdout, /"resultCd": "200"/);
    const message = await waitForSubject(reference);
    assert.equal(message.fields.routingKey, 'payment.succeeded.nicepay');
  });

  it('simulate mcpayment: the signature header is shown', async () => {
    const reference = `CLI-MC-${Date.now()}`;
    const result = await run(
      SIMULATE_JS,
      ['mcpayment', '-s', 'expired', '-u', bed.gateway.url, '-r', reference],
      PROVIDER_ENV,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /> mcp-signature: [0-9a-f]{64}/);
    assert.match(result.stdout, /"transaction_status": "EXPIRED"/);
    assert.equal((await waitForSubject(reference)).fields.routingKey, 'payment.expired.mcpayment');
  });

  it('simulate ppob: the URL token is masked in the output', async () => {
    const reference = `CLI-PP-${Date.now()}`;
    const result = await run(
      SIMULATE_JS,
      ['ppob', '--status', 'Failed', '--url', bed.gateway.url, '--reference', reference],
      PROVIDER_ENV,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /> GET http:\/\/127\.0\.0\.1:\d+\/callbacks\/ppob\/…\?ref_id=/);
    assert.ok(!result.stdout.includes(PPOB.token), 'the token is printed');
    assert.ok(!result.stderr.includes(PPOB.token), 'the token is printed');
    assert.equal((await waitForSubject(reference)).fields.routingKey, 'topup.failed.ppob');
  });

  it('reads .env from the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-cli-env-'));
    try {
      writeFileSync(
        join(dir, '.env'),
        Object.entries(PROVIDER_ENV)
          .map(([name, value]) => `${name}=${value}`)
          .join('\n'),
      );
      const reference = `CLI-S8-${Date.now()}`;
      const result = await run(
        SIMULATE_JS,
        ['s88pay', '--status', '3', '--url', bed.gateway.url, '--reference', reference],
        {},
        dir,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /< 200 OK/);
      assert.equal((await waitForSubject(reference)).fields.routingKey, 'payment.failed.s88pay');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unconfigured provider, an unknown provider and an unknown status, exit 1', async () => {
    const env = { ...PROVIDER_ENV, MCPAYMENT_HASH_KEY: '' };
    const unconfigured = await run(SIMULATE_JS, ['mcpayment', '--url', bed.gateway.url], env);
    assert.equal(unconfigured.code, 1);
    assert.match(unconfigured.stderr, /MCPayment is not configured: set MCPAYMENT_HASH_KEY/);
    assert.equal(unconfigured.stdout, '');

    const unknown = await run(SIMULATE_JS, ['paypal', '--url', bed.gateway.url], PROVIDER_ENV);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /Unknown provider "paypal": expected one of nicepay, mcpayment, s88pay, sidopulsa, ppob/,
    );

    const badStatus = await run(
      SIMULATE_JS,
      ['sidopulsa', '--status', '3', '--url', bed.gateway.url],
      PROVIDER_ENV,
    );
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /expected one of 1, 2, succeeded, failed/);
  });

  it('exits 1 when the gateway refuses the callback (wrong credentials → 401)', async () => {
    const result = await run(
      SIMULATE_JS,
      ['mcpayment', '--status', 'PAID', '--url', bed.gateway.url],
      { ...PROVIDER_ENV, MCPAYMENT_HASH_KEY: 'not-the-gateway-key' },
    );
    assert.equal(result.code, 1);
    assert.match(result.stdout, /< 401 Unauthorized/);
  });

  it('exits 1 with a clear message when no gateway listens', async () => {
    const result = await run(SIMULATE_JS, ['ppob', '--url', 'http://127.0.0.1:1'], PROVIDER_ENV);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Could not reach the gateway at http:\/\/127\.0\.0\.1:1/);
  });

  it('--help lists every provider with its statuses', async () => {
    const result = await run(SIMULATE_JS, ['--help'], {});
    assert.equal(result.code, 0);
    for (const simulator of Object.values(SIMULATORS)) {
      assert.ok(result.stdout.includes(`${simulator.provider}`));
      assert.ok(result.stdout.includes(simulator.statuses.join(', ')));
    }
  });

  describe('events', () => {
    let child: ChildProcess | null = null;
    after(() => {
      child?.kill('SIGKILL');
    });

    it('prints a line per event matching its binding key, and exits 0 on SIGINT', async () => {
      let stdout = '';
      let stderr = '';
      child = spawn(process.execPath, [EVENTS_JS, 'topup.#'], {
        cwd: emptyDir,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          AMQP_URL,
          EVENTS_EXCHANGE: bed.exchange,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) =>
        child!.on('exit', (code) => resolve(code)),
      );

      const until = async (what: () => boolean, label: string) => {
        const deadline = Date.now() + 15_000;
        while (!what()) {
          if (Date.now() > deadline)
            throw new Error(`${label}; stdout: ${stdout}; stderr: ${stderr}`);
          await sleep(25);
        }
      };
      await until(() => stderr.includes('Listening on exchange'), 'events did not start');
      assert.ok(stderr.includes(bed.exchange));
      assert.ok(stderr.includes('topup.#'));

      const providers = bed.gateway.config.providers;
      const payment = SIMULATORS.nicepay.simulate(providers, 'succeeded', `EV-NP-${Date.now()}`);
      const topup = SIMULATORS.sidopulsa.simulate(providers, 'failed', `EV-SP-${Date.now()}`);
      for (const request of [payment, topup]) {
        const res = await fetch(`${bed.gateway.url}${request.path}`, {
          method: request.method,
          headers: request.headers,
          body: request.body,
        });
        assert.equal(res.status, 200);
      }
      const event = await waitForSubject(topup.reference);
      await waitForSubject(payment.reference);
      await until(() => stdout.includes(topup.reference), 'the topup event line did not appear');
      const line = stdout.split('\n').find((l) => l.includes(topup.reference))!;
      assert.match(line, /^topup\.failed\.sidopulsa\s+/);
      assert.ok(line.includes(String(event.properties.messageId)), 'the event id is on the line');
      assert.match(line, /9000 IDR/);
      assert.match(line, /failed \(2\)/);
      await sleep(500);
      assert.ok(!stdout.includes(payment.reference), 'a payment event matched topup.#');

      child.kill('SIGINT');
      assert.equal(await exited, 0);
      child = null;
    });
  });
});
