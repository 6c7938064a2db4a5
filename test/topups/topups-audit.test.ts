/**
 * `POST /topups` spends the merchant's balance: like every admin action it writes an admin_audit
 * row with who (the key's fingerprint / operator), what (the order, the customer's number
 * masked), why (a reason when one is given) and the outcome (status, the order's placement).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import { uniqueRef } from '../support/ppob-sidopulsa.js';
import { ADMIN_KEY, createTopupBed, type TopupBed } from '../support/topups.js';

interface AuditDetails {
  status: number;
  error?: string;
  result: { placement: string };
  subject: Record<string, string | null>;
}

interface AuditRow {
  action: string;
  target: string | null;
  key_fingerprint: string;
  details: string;
}

describe('top-up orders are audited', () => {
  let t: TopupBed;
  before(async () => (t = await createTopupBed('postgres')));
  after(() => t.teardown());

  const post = (body: unknown) =>
    fetch(`${t.bed.gateway.managementUrl}/topups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': ADMIN_KEY },
      body: JSON.stringify(body),
    });

  it('writes one admin_audit row per POST /topups and GET, with target, who, what and outcome', async () => {
    const reference = uniqueRef('A');
    const order = { provider: 'ppob', reference, product: 'S10', destination: '08123214214' };
    assert.equal((await post(order)).status, 202);
    assert.equal((await post({ ...order, product: 'S20' })).status, 409);
    const shown = await fetch(`${t.bed.gateway.managementUrl}/topups/ppob/${reference}`, {
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    assert.equal(shown.status, 200);
    await sleep(300);
    const rows = await t.bed.db.query<AuditRow>(
      `SELECT action, target, key_fingerprint, details FROM admin_audit
        WHERE target = $1 OR target LIKE $2 ORDER BY at`,
      [`ppob/default/${reference}`, `%${reference}%`],
    );
    const created = rows.filter((row) => row.action === 'topups.create');
    assert.equal(created.length, 2);
    const [first, conflict] = created.map((row) => JSON.parse(row.details) as AuditDetails);
    assert.equal(created[0].target, `ppob/default/${reference}`);
    assert.notEqual(created[0].key_fingerprint, 'none');
    assert.equal(first.status, 202);
    assert.equal(first.result.placement, 'queued');
    assert.equal(first.subject.destination, '0812****214');
    assert.equal(first.subject.product, 'S10');
    assert.equal(conflict.status, 409);
    assert.match(String(conflict.error), /already names another ppob order/);
    assert.doesNotMatch(rows.map((row) => row.details).join(), /08123214214/);
  });
});
