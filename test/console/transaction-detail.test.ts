/**
 * The admin API answers the support case in one call: search by the order reference finds the
 * held callback and the refused attempt; GET of the transaction shows the held claim (amount,
 * currency, status), and after alice publishes it, her action with her name and reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALICE_KEY, startSupportCase, type SupportCase } from './support-case.js';
import { eventually } from '../verification/verification.suite.js';

// Assertions read nested fields of the answers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('the admin API on the support case', () => {
  let support: SupportCase;
  before(async () => {
    support = await startSupportCase();
  });
  after(async () => {
    await support?.close();
  });

  const api = async (path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${support.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'x-admin-key': ALICE_KEY, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  it('search by merchant reference finds the held callback and the refused attempt', async () => {
    await eventually('the refused attempt recorded', async () => {
      const page = await api(`/admin/callbacks?reference=${support.orderReference}`);
      return page.body.items.length === 2;
    });
    const page = await api(`/admin/callbacks?reference=${support.orderReference}`);
    assert.deepEqual(page.body.items.map((i: Json) => i.outcome).sort(), [
      'rejected_auth',
      'verifying',
    ]);
    const refused = await api(
      `/admin/callbacks?reference=${support.orderReference}&outcome=rejected_auth`,
    );
    assert.equal(refused.body.items.length, 1);
  });

  it('one GET of the transaction: state, callbacks, the held claim, then the operator action', async () => {
    const path = `/admin/transactions/mcpayment/default/${support.transactionKey}`;
    const before = await api(path);
    assert.equal(before.status, 200);
    const [verification] = before.body.verifications;
    assert.equal(verification.callbackId, support.heldCallbackId);
    assert.equal(verification.state, 'verifying');
    assert.equal(verification.claim.status, 'succeeded');
    assert.equal(verification.claim.currency, 'IDR');
    assert.equal(verification.claim.amount, support.amount);
    assert.equal(before.body.callbacks[0].kind, 'callback');
    assert.deepEqual(before.body.operatorActions, []);

    const reason = 'customer sent the bank transfer receipt, ticket 88';
    const published = await api(`/admin/verifications/${support.heldCallbackId}/publish`, {
      reason,
    });
    assert.equal(published.status, 200);
    const afterPublish = await eventually('the action recorded', async () => {
      const detail = await api(path);
      return detail.body.operatorActions.length === 1 && detail.body;
    });
    const [action] = afterPublish.operatorActions;
    assert.equal(action.action, 'verifications.publish-unverified');
    assert.equal(action.operator, 'alice');
    assert.equal(action.reason, reason);
    assert.equal(afterPublish.verifications[0].state, 'published_unverified');
    assert.ok(Array.isArray(afterPublish.inquiries));
  });
});
