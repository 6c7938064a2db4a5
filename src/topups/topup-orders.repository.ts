import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SqlDialect } from '../persistence/sql-dialect.js';

export type Placement = 'queued' | 'placed' | 'failed' | 'abandoned';

export interface TopupOrderRow {
  id: string;
  provider: string;
  account: string;
  reference: string;
  product: string | null;
  destination: string | null;
  inquiry_id: string | null;
  source: string;
  command_id: string | null;
  placement: Placement;
  status: string | null;
  provider_status: string | null;
  provider_message: string | null;
  failure_reason: string | null;
  attempts: number;
  next_attempt_at: string | Date;
  lease_owner: string | null;
  created_at: string | Date;
  updated_at: string | Date;
}

export interface NewTopupOrder {
  provider: string;
  account: string;
  reference: string;
  product: string | null;
  destination: string | null;
  inquiryId: string | null;
  source: 'amqp' | 'http';
  commandId: string | null;
}

/** How an answered order is settled. */
export interface OrderSettlement {
  placement: Exclude<Placement, 'queued'>;
  status: string | null;
  providerStatus: string | null;
  providerMessage: string | null;
  failureReason: string | null;
}

const COLUMNS = `id, provider, account, reference, product, destination, inquiry_id, source, command_id,
  placement, status, provider_status, provider_message, failure_reason, attempts, next_attempt_at,
  lease_owner, created_at, updated_at`;

/** The orders table (see migration TopupOrders1765400000000), in the SQL both databases speak. */
@Injectable()
export class TopupOrdersRepository {
  constructor(private readonly sql: SqlDialect) {}

  /**
   * Stores a new order, or finds the one already stored under (provider, account, reference):
   * the unique index decides, so copies racing on two replicas still make one row.
   */
  async insert(order: NewTopupOrder): Promise<{ created: boolean; row: TopupOrderRow }> {
    const now = new Date().toISOString();
    const [created] = await this.sql.query<TopupOrderRow>(
      `INSERT INTO topup_orders (id, provider, account, reference, product, destination, inquiry_id,
         source, command_id, placement, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)
       ON CONFLICT (provider, account, reference) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        order.provider,
        order.account,
        order.reference,
        order.product,
        order.destination,
        order.inquiryId,
        order.source,
        order.commandId,
        now,
        now,
        now,
      ],
    );
    if (created) return { created: true, row: created };
    const existing = await this.find(order.provider, order.account, order.reference);
    if (!existing) throw new Error('order vanished between insert and read');
    return { created: false, row: existing };
  }

  /** Orders that failed (refused, or abandoned after every attempt), newest first. */
  async failed(limit: number): Promise<TopupOrderRow[]> {
    return this.sql.query<TopupOrderRow>(
      `SELECT ${COLUMNS} FROM topup_orders WHERE placement IN ('failed', 'abandoned')
       ORDER BY updated_at DESC LIMIT ?`,
      [limit],
    );
  }

  async find(provider: string, account: string, reference: string): Promise<TopupOrderRow | null> {
    const [row] = await this.sql.query<TopupOrderRow>(
      `SELECT ${COLUMNS} FROM topup_orders WHERE provider = ? AND account = ? AND reference = ?`,
      [provider, account, reference],
    );
    return row ?? null;
  }

  /** The (provider, account) pairs with an order due now and not leased to a live instance. */
  async dueAccounts(): Promise<Array<{ provider: string; account: string }>> {
    const now = new Date().toISOString();
    return this.sql.query(
      `SELECT DISTINCT provider, account FROM topup_orders
       WHERE placement = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)`,
      [now, now],
    );
  }

  /**
   * Leases up to `limit` due orders of one account, oldest due first, counting the attempt. On
   * PostgreSQL `FOR UPDATE SKIP LOCKED` keeps replicas from claiming the same order.
   */
  async claim(
    owner: string,
    leaseMs: number,
    provider: string,
    account: string,
    limit: number,
  ): Promise<TopupOrderRow[]> {
    const now = new Date();
    const lock = this.sql.isPostgres ? 'FOR UPDATE SKIP LOCKED' : '';
    return this.sql.query<TopupOrderRow>(
      `UPDATE topup_orders SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
       WHERE id IN (
         SELECT id FROM topup_orders
         WHERE placement = 'queued' AND provider = ? AND account = ? AND next_attempt_at <= ?
           AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY next_attempt_at LIMIT ? ${lock})
       RETURNING ${COLUMNS}`,
      [
        owner,
        new Date(now.getTime() + leaseMs).toISOString(),
        now.toISOString(),
        provider,
        account,
        now.toISOString(),
        now.toISOString(),
        limit,
      ],
    );
  }

  /** Records the provider's answer; false when this instance no longer holds the lease. */
  async settle(id: string, owner: string, settlement: OrderSettlement): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE topup_orders SET placement = ?, status = ?, provider_status = ?, provider_message = ?,
         failure_reason = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = ?
       WHERE id = ? AND lease_owner = ? AND placement = 'queued' RETURNING id`,
      [
        settlement.placement,
        settlement.status,
        settlement.providerStatus?.slice(0, 64) ?? null,
        settlement.providerMessage?.slice(0, 1000) ?? null,
        settlement.failureReason?.slice(0, 1000) ?? null,
        new Date().toISOString(),
        id,
        owner,
      ],
    );
    return rows.length > 0;
  }

  /** Gives the order back for another attempt at `nextAttemptAt`, keeping the reason. */
  async retryLater(id: string, owner: string, nextAttemptAt: Date, error: string): Promise<void> {
    await this.sql.query(
      `UPDATE topup_orders SET lease_owner = NULL, lease_until = NULL, next_attempt_at = ?,
         last_error = ?, updated_at = ?
       WHERE id = ? AND lease_owner = ? AND placement = 'queued'`,
      [nextAttemptAt.toISOString(), error.slice(0, 1000), new Date().toISOString(), id, owner],
    );
  }
}
