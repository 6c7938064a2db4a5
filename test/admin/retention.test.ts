/**
 * Retention on PostgreSQL and SQLite: old accepted callbacks whose events were all published go
 * (with their outbox rows), rejected attempts go after their shorter time, and a callback with an
 * unpublished event is never deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RejectedAttemptRecorder } from '../../src/retention/rejected-attempts.js';
import { RetentionService } from '../../src/retention/retention.service.js';
import type { DatabaseKind } from '../support/databases.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { nicepayNotification, postForm } from '../support/nicepay.js';
import { count, waitUntil } from './admin-support.js';

const DAY = 24 * 60 * 60 * 1000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

for (const kind of ['postgres', 'sqlite'] as DatabaseKind[]) {
  describe(`retention on ${kind}`, () => {
    let bed: TestBed;
    before(async () => {
      bed = await createTestBed(kind, {
        CALLBACK_RETENTION_DAYS: '30',
        REJECTED_RETENTION_DAYS: '7',
      });
    });
    after(() => bed?.teardown());

    async function accepted(): Promise<{ id: string; eventId: string }> {
      const fields = nicepayNotification();
      const res = await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields);
      assert.equal(res.status, 200, await res.text());
      const [row] = await bed.db.query<{ id: string; event_id: string }>(
        'SELECT id, event_id FROM callbacks WHERE transaction_key = $1',
        [fields.tXid],
      );
      return { id: row.id, eventId: row.event_id };
    }

    async function rejected(): Promise<string> {
      const fields = nicepayNotification({ merchantToken: 'c'.repeat(64) });
      assert.equal((await postForm(`${bed.gateway.url}/callbacks/nicepay`, fields)).status, 401);
      await bed.gateway.app.get(RejectedAttemptRecorder).flush();
      const [row] = await bed.db.query<{ id: string }>(
        `SELECT id FROM callbacks WHERE outcome = 'rejected_auth' AND raw_body LIKE $1`,
        [`%${fields.tXid}%`],
      );
      assert.ok(row, 'rejected attempt recorded');
      return row.id;
    }

    const backdate = (id: string, iso: string) =>
      bed.db.query('UPDATE callbacks SET received_at = $1 WHERE id = $2', [iso, id]);
    const exists = async (id: string) =>
      (await count(bed, 'SELECT COUNT(*) AS n FROM callbacks WHERE id = $1', [id])) === 1;

    it('deletes only old published callbacks and old rejected attempts, in batches, and keeps the rest', async () => {
      const oldPublished = await accepted();
      const oldUnpublished = await accepted();
      const oldPartly = await accepted();
      const recent = await accepted();
      const oldRejected = await rejected();
      const recentRejected = await rejected();
      const edgeRejected = await rejected();
      await bed.tap.waitFor(4);
      await waitUntil(
        async () =>
          (await count(bed, 'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL')) === 0,
        'events published',
      );

      // An event that is not published (broker outage, say), leased elsewhere so the relay leaves it.
      const leasedAway = ['someone-else', new Date(Date.now() + 3_600_000).toISOString()];
      await bed.db.query(
        'UPDATE outbox SET published_at = NULL, lease_owner = $1, lease_until = $2 WHERE event_id = $3',
        [...leasedAway, oldUnpublished.eventId],
      );
      // A callback with a published first event and an unpublished second one (renormalized).
      await bed.db.query(
        `INSERT INTO outbox (event_id, callback_id, provider, event_type, routing_key, payload, created_at, lease_owner, lease_until)
         VALUES ($1, $2, 'nicepay', 'payment.succeeded', 'payment.succeeded.nicepay', '{}', $3, $4, $5)`,
        [
          '11111111-2222-5333-8444-555555555555',
          oldPartly.id,
          new Date().toISOString(),
          ...leasedAway,
        ],
      );
      for (const { id } of [oldPublished, oldUnpublished, oldPartly])
        await backdate(id, daysAgo(31));
      await backdate(recent.id, daysAgo(29));
      await backdate(oldRejected, daysAgo(8));
      await backdate(recentRejected, daysAgo(6));
      await backdate(edgeRejected, daysAgo(7.01));
      const outboxBefore = await count(bed, 'SELECT COUNT(*) AS n FROM outbox');

      const result = await bed.gateway.app.get(RetentionService).runOnce();
      assert.deepEqual(result, { accepted: 1, rejected: 2 });

      assert.equal(await exists(oldPublished.id), false, 'old published callback deleted');
      assert.equal(
        await count(bed, 'SELECT COUNT(*) AS n FROM outbox WHERE callback_id = $1', [
          oldPublished.id,
        ]),
        0,
      );
      assert.equal(
        await count(bed, 'SELECT COUNT(*) AS n FROM outbox'),
        outboxBefore - 1,
        'its outbox row went with it',
      );
      assert.equal(
        await exists(oldUnpublished.id),
        true,
        'never deletes a callback with an unpublished event',
      );
      assert.equal(await exists(oldPartly.id), true, 'nor one with any unpublished event');
      assert.equal(await exists(recent.id), true);
      assert.equal(await exists(oldRejected), false);
      assert.equal(await exists(edgeRejected), false);
      assert.equal(await exists(recentRejected), true);

      // Nothing more on a second run.
      assert.deepEqual(await bed.gateway.app.get(RetentionService).runOnce(), {
        accepted: 0,
        rejected: 0,
      });
    });

    it('deletes more than one batch of rejected attempts in one run', async () => {
      const template = await rejected();
      const [row] = await bed.db.query<Record<string, unknown>>(
        'SELECT * FROM callbacks WHERE id = $1',
        [template],
      );
      const total = 1_100;
      for (let i = 0; i < total; i += 100) {
        const values: string[] = [];
        const params: unknown[] = [];
        for (let j = 0; j < 100; j += 1) {
          const n = params.length;
          values.push(
            `($${n + 1}, 'nicepay', 'rejected_auth', '127.0.0.1', 'POST', '/callbacks/nicepay', '{}', 'x', 'utf8', 'HTTP 401', $${n + 2})`,
          );
          params.push(`bulk-${i + j}-${template.slice(0, 8)}`, daysAgo(10));
        }
        await bed.db.query(
          `INSERT INTO callbacks (id, provider, outcome, source_ip, method, path, headers, raw_body, raw_body_encoding, verification, received_at)
           VALUES ${values.join(', ')}`,
          params,
        );
      }
      assert.ok(row);
      const result = await bed.gateway.app.get(RetentionService).runOnce();
      assert.deepEqual(result, { accepted: 0, rejected: total });
      assert.equal(await exists(template), true);
    });
  });
}
