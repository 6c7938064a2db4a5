import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SqlDialect } from '../../persistence/sql-dialect.js';

/** Who an X-EXTERNAL-ID belongs to: the account, the partner and the day it was sent on. */
export interface ExternalIdKey {
  account: string;
  partnerId: string;
  /** The X-TIMESTAMP's own date (YYYY-MM-DD, in the offset it was sent with). */
  day: string;
  externalId: string;
}

/** A claim older than this whose callback was never stored was abandoned (crash, 503). */
export const CLAIM_LEASE_MS = 60_000;
/** Claims are kept this long (the day they belong to, plus clock and offset margin). */
const KEEP_MS = 3 * 24 * 3600_000;
const PURGE_EVERY_MS = 3600_000;

/**
 * X-EXTERNAL-ID de-duplication, safe across replicas and crashes. Before the callback is stored
 * the request claims its id (the primary key decides between racing copies); once the callback is
 * stored the claim is marked `stored`. A repeat finds a stored claim (409), or a claim in flight
 * (409: a concurrent copy). A claim never marked stored — the process died between claim and
 * store, or storage failed — expires after CLAIM_LEASE_MS and the next copy takes it over, so a
 * provider's retry after a crash is processed rather than refused as a duplicate. A crash after
 * the store but before the mark lets a later copy through to the pipeline, whose own
 * de-duplication (event id, hint bytes) answers it as a duplicate: never processed twice.
 */
@Injectable()
export class SnapExternalIds {
  private lastPurge = 0;

  constructor(private readonly sql: SqlDialect) {}

  /** The claim token when this request may process the callback; null for a duplicate. */
  async claim(key: ExternalIdKey, now = new Date()): Promise<string | null> {
    await this.purgeNow(now);
    const claim = randomUUID();
    const pk = [key.account, key.partnerId, key.day, key.externalId];
    const inserted = await this.sql.query(
      `INSERT INTO snap_external_ids (account, partner_id, day, external_id, claim, claimed_at, stored)
       VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING RETURNING claim`,
      [...pk, claim, now.toISOString()],
    );
    if (inserted.length > 0) return claim;
    // Taken over only if still unstored and older than the lease (compare-and-set on both).
    const taken = await this.sql.query(
      `UPDATE snap_external_ids SET claim = ?, claimed_at = ?
       WHERE account = ? AND partner_id = ? AND day = ? AND external_id = ? AND stored = 0 AND claimed_at < ?
       RETURNING claim`,
      [claim, now.toISOString(), ...pk, new Date(now.getTime() - CLAIM_LEASE_MS).toISOString()],
    );
    return taken.length > 0 ? claim : null;
  }

  /** The callback is durably stored: the id is now a duplicate for good. */
  async stored(key: ExternalIdKey, claim: string): Promise<void> {
    await this.sql.query(
      `UPDATE snap_external_ids SET stored = 1
       WHERE account = ? AND partner_id = ? AND day = ? AND external_id = ? AND claim = ?`,
      [key.account, key.partnerId, key.day, key.externalId, claim],
    );
  }

  /** Storing failed: the provider's retry with the same id must be processed. */
  async release(key: ExternalIdKey, claim: string): Promise<void> {
    await this.sql.query(
      `DELETE FROM snap_external_ids
       WHERE account = ? AND partner_id = ? AND day = ? AND external_id = ? AND claim = ? AND stored = 0`,
      [key.account, key.partnerId, key.day, key.externalId, claim],
    );
  }

  private async purgeNow(now: Date): Promise<void> {
    if (now.getTime() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now.getTime();
    await this.sql.query(`DELETE FROM snap_external_ids WHERE claimed_at < ?`, [
      new Date(now.getTime() - KEEP_MS).toISOString(),
    ]);
  }
}
