/**
 * The support case of issue 25 as a fixture: "I paid order X but it shows unpaid". A gateway with
 * named operators (alice: operator, bob: viewer), MCPayment verified against the sandbox through
 * a relay that answers 503 — so the customer's callback is held (verifying) — and a forged
 * callback of the same order refused (401) beside it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { McpaymentSandbox } from '../../src/providers/mcpayment/mcpayment.sandbox.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { inquiryEnv, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { StatusApiProxy } from '../support/status-api-proxy.js';
import { eventually, sendCallback } from '../verification/verification.suite.js';

export const SHARED_KEY = 'console-shared-admin-key-0123456789abcdef';
export const ALICE_KEY = 'alice-console-key-0123456789abcdefghijkl';
export const BOB_KEY = 'bob-console-key-0123456789abcdefghijklmno';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface SupportCase {
  bed: TestBed;
  /** The management port (console, admin API). */
  url: string;
  orderReference: string;
  transactionKey: string;
  heldCallbackId: string;
  amount: string;
  /** Every secret configured: none may appear in a page or an answer. */
  secrets: string[];
  close(): Promise<void>;
}

export async function startSupportCase(
  kind: 'sqlite' | 'postgres' = 'sqlite',
): Promise<SupportCase> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-console-'));
  const operators = join(dir, 'operators.yaml');
  writeFileSync(
    operators,
    [
      'operators:',
      `  - { name: alice, role: operator, keySha256: ${sha256(ALICE_KEY)} }`,
      `  - { name: bob, role: viewer, keySha256: ${sha256(BOB_KEY)} }`,
    ].join('\n'),
  );
  const sandbox: TestSandbox = await startTestSandbox();
  // Every status inquiry fails: the customer's callback stays held for an operator.
  const proxy = new StatusApiProxy(sandbox.sandbox.url, (_path, body) => body);
  await proxy.start();
  proxy.set(() => ({ status: 503, body: '{}' }));
  const bed = await createTestBed(kind, {
    ...inquiryEnv(proxy.url),
    VERIFY_RETRY_MAX_SECONDS: '60',
    RECONCILE_AFTER_SECONDS: '3600',
    ADMIN_API_KEY: SHARED_KEY,
    OPERATORS_FILE: operators,
    MANAGEMENT_PORT: '0',
  });
  sandbox.sandbox.setGatewayUrl(bed.gateway.url);
  const mcpayment = sandbox.sandbox.provider<McpaymentSandbox>('mcpayment');
  const orderReference = `ORD-${Date.now()}-CONSOLE`;
  const paid = await mcpayment.create({ status: 'PAID', reference: orderReference });
  const body = JSON.parse(paid.callback!.body!) as Record<string, unknown>;
  const transactionKey = String(body.transaction_id);
  const [held] = await eventually('the held callback', async () => {
    const rows = await bed.db.query<{ callback_id: string; event: string }>(
      `SELECT callback_id, event FROM verifications WHERE transaction_key = ${kind === 'postgres' ? '$1' : '?'}`,
      [transactionKey],
    );
    return rows.length > 0 && rows;
  });
  // The same order, forged: its signature fails, the reference is still readable.
  const headers = Object.fromEntries(
    Object.entries(paid.callback!.headers).map(([name, value]) => [
      name,
      /signature/i.test(name) ? 'f'.repeat(value.length) : value,
    ]),
  );
  const forged = await sendCallback(bed.gateway.url, { ...paid.callback!, headers });
  if (forged.status !== 401) throw new Error(`the forged callback got ${forged.status}`);
  const secrets = [SHARED_KEY, ALICE_KEY, BOB_KEY, sha256(ALICE_KEY), sha256(BOB_KEY)];
  for (const [name, value] of Object.entries(bed.env))
    if (/KEY|TOKEN|SECRET|PASSWORD/.test(name) && value.length >= 8) secrets.push(value);
  return {
    bed,
    url: bed.gateway.managementUrl,
    orderReference,
    transactionKey,
    heldCallbackId: held.callback_id,
    // What the callback claims, as stored with its verification: the console must show it.
    amount: String(
      (JSON.parse(held.event) as { event: { body: { data: { amount: string } } } }).event.body.data
        .amount,
    ),
    secrets,
    async close() {
      await bed.teardown();
      await proxy.close();
      await sandbox.sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
