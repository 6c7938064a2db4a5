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
  /**
   * SHA-256 (hex) of the bytes received. X-EXTERNAL-ID is signed by no family, so a replay of any
   * captured notification can carry the id a genuine one will use: the id is a duplicate only
   * together with the same bytes, and a replay never takes a genuine notification's place.
   */
  bodyHash: string;
}

/**
 * How long a claim's holder may take from claiming to storing (a store takes milliseconds; this
 * covers a slow database). A claim older than this, never marked stored, was abandoned.
 */
export const CLAIM_LEASE_MS = 15_000;
/** How often a copy waiting on an unfinished claim looks again. */
const WAIT_STEP_MS = 100;
/** Claims are kept this long (the day they belong to, plus clock and offset margin). */
const KEEP_MS = 3 * 24 * 3600_000;
const PURGE_EVERY_MS = 3600_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ClaimRow {
  claim: string;
  claimed_at: string | Date;
  stored: number | string;
}

/**
 * X-EXTERNAL-ID de-duplication, safe across replicas and crashes. Before the callback is stored
 * the request claims its id (the primary key decides between racing copies); once the callback is
 * stored the claim is marked `stored`, and every later copy is a duplicate (409). A copy that
 * finds a claim not yet stored waits for its holder: stored → duplicate; released (storage failed)
 * → it claims the id itself; still unstored after CLAIM_LEASE_MS (the holder died between claim
 * and store) → it takes the claim over and is processed. So a provider's retry after a crash is
 * never refused as the duplicate of a notification that was never stored. A crash after the
 * store but before the mark (or a holder slower than the lease) lets one more copy through to the
 * pipeline, whose own de-duplication (event id, hint bytes) answers it: never processed twice.
 */
@Injectable()
export class SnapExternalIds {
  private lastPurge = 0;

  constructor(private readonly sql: SqlDialect) {}

  /** The claim token when this request may process the callback; null for a duplicate. */
  async claim(key: ExternalIdKey): Promise<string | null> {
    await this.purgeNow(new Date());
    const claim = randomUUID();
    const pk = [key.account, key.partnerId, key.day, key.externalId, key.bodyHash];
    const deadline = Date.now() + CLAIM_LEASE_MS + 5_000;
    while (Date.now() < deadline) {
      const inserted = await this.sql.query(
        `INSERT INTO snap_external_ids (account, partner_id, day, external_id, body_sha256, claim, claimed_at, stored)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING RETURNING claim`,
        [...pk, claim, new Date().toISOString()],
      );
      if (inserted.length > 0) return claim;
      const [held] = await this.sql.query<ClaimRow>(
        `SELECT claim, claimed_at, stored FROM snap_external_ids
         WHERE account = ? AND partner_id = ? AND day = ? AND external_id = ? AND body_sha256 = ?`,
        pk,
      );
      if (!held) continue; // released meanwhile: claim it
      if (Number(held.stored) === 1) return null;
      const age = Date.now() - new Date(held.claimed_at).getTime();
      if (age >= CLAIM_LEASE_MS) {
        // Compare-and-set on the holder's token: of several waiting copies one takes it over.
        const taken = await this.sql.query(
          `UPDATE snap_external_ids SET claim = ?, claimed_at = ?
           WHERE account = ? AND partner_id = ? AND day = ? AND external_id = ? AND body_sha256 = ?
             AND claim = ? AND stored = 0
           RETURNING claim`,
          [claim, new Date().toISOString(), ...pk, held.claim],
        );
        if (taken.length > 0) return claim;
        continue;
      }
      await sleep(Math.min(WAIT_STEP_MS, CLAIM_LEASE_MS - age));
    }
    return null;
  }

  /** The callback is durably stored: the id is now a duplicate for good. */
  async stored(key: ExternalIdKey, claim: string): Promise<void> {
    await this.sql.query(
      `UPDATE snap_external_ids SET stored = 1
       WHERE account = ? AND partner_id = ? AND day = ? AND external_id = ? AND body_sha256 = ? AND claim = ?`,
      [key.account, key.partnerId, key.day, key.externalId, key.bodyHash, claim],
    );
  }

  /** Storing failed: the provider's retry with the same id must be processed. */
  async release(key: ExternalIdKey, claim: string): Promise<void> {
    await this.sql.query(
      `DELETE FROM snap_external_ids
       WHERE account = ? AND partner_id = ? AND day = ? AND external_id = ? AND body_sha256 = ?
         AND claim = ? AND stored = 0`,
      [key.account, key.partnerId, key.day, key.externalId, key.bodyHash, claim],
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
