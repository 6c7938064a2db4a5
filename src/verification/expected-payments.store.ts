import { Injectable } from '@nestjs/common';
import { SqlDialect, step } from '../persistence/sql-dialect.js';
import type { StatusQuery } from './status-api.js';
import type { TransactionKey } from './verification.store.js';

/**
 * Where an expected payment stands:
 * - `open`: followed by inquiry (overdue once its expiry passed without a final state);
 * - `settled`: the provider reported a final state (published like any other);
 * - `overdue`: after its expiry the provider still reports it unfinished: listed for an operator;
 * - `unknown`: after its expiry the provider does not know it at all: listed for an operator.
 */
export type ExpectedState = 'open' | 'settled' | 'overdue' | 'unknown';
export const EXPECTED_STATES: readonly ExpectedState[] = ['open', 'settled', 'overdue', 'unknown'];

export interface ExpectedPaymentRow {
  provider: string;
  account: string;
  transaction_key: string;
  provider_transaction_id: string | null;
  merchant_reference: string | null;
  amount: string;
  currency: string;
  details: string;
  query: string;
  expires_at: string | Date;
  state: ExpectedState;
  final_status: string | null;
  found_by_inquiry: number | string;
  source: string;
  last_result: string | null;
  created_at: string | Date;
  closed_at: string | Date | null;
}

export interface NewExpectedPayment extends TransactionKey {
  providerTransactionId: string | null;
  merchantReference: string | null;
  amount: string;
  currency: string;
  details: Record<string, string | null>;
  query: StatusQuery;
  expiresAt: Date;
  source: 'http' | 'amqp';
  /** When the provider is first asked. */
  firstAsk: Date;
}

const COLUMNS = `provider, account, transaction_key, provider_transaction_id, merchant_reference, amount,
  currency, details, query, expires_at, state, final_status, found_by_inquiry, source, last_result,
  created_at, closed_at`;
const KEY = `provider = ? AND account = ? AND transaction_key = ?`;
const keyParams = (key: TransactionKey) => [key.provider, key.account, key.transactionKey];

/** Expected payments and the inquiry schedule that follows them. */
@Injectable()
export class ExpectedPaymentsStore {
  constructor(private readonly sql: SqlDialect) {}

  /**
   * Stores a new expected payment and schedules its transaction (first ask at `firstAsk`, followed
   * until its expiry), in one transaction. When one is stored already for the transaction, nothing
   * is written and the stored one is returned (`created: false`) for the caller to compare.
   */
  async register(
    payment: NewExpectedPayment,
  ): Promise<{ created: boolean; row: ExpectedPaymentRow }> {
    const now = new Date().toISOString();
    return this.sql.transact(function* () {
      const inserted = yield step(
        `INSERT INTO expected_payments (${COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, 0, ?, NULL, ?, NULL)
         ON CONFLICT (provider, account, transaction_key) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          ...keyParams(payment),
          payment.providerTransactionId,
          payment.merchantReference,
          payment.amount,
          payment.currency,
          JSON.stringify(payment.details),
          JSON.stringify(payment.query),
          payment.expiresAt.toISOString(),
          payment.source,
          now,
        ],
      );
      if (inserted.length === 0) {
        const [row] = yield step(`SELECT ${COLUMNS} FROM expected_payments WHERE ${KEY}`, [
          ...keyParams(payment),
        ]);
        return { created: false, row: row as unknown as ExpectedPaymentRow };
      }
      yield step(
        `INSERT INTO inquiry_schedule AS s (provider, account, transaction_key, checked_at, checks, next_at,
                                            follow_until)
         VALUES (?, ?, ?, ?, 0, ?, ?)
         ON CONFLICT (provider, account, transaction_key) DO UPDATE
           SET follow_until = excluded.follow_until,
               next_at = CASE WHEN s.next_at IS NULL OR s.next_at > excluded.next_at
                              THEN excluded.next_at ELSE s.next_at END`,
        [
          ...keyParams(payment),
          now,
          payment.firstAsk.toISOString(),
          payment.expiresAt.toISOString(),
        ],
      );
      return { created: true, row: inserted[0] as unknown as ExpectedPaymentRow };
    });
  }

  async get(key: TransactionKey): Promise<ExpectedPaymentRow | null> {
    const [row] = await this.sql.query<ExpectedPaymentRow>(
      `SELECT ${COLUMNS} FROM expected_payments WHERE ${KEY}`,
      keyParams(key),
    );
    return row ?? null;
  }

  /**
   * Expected payments by state, oldest first. `overdue` also lists the open ones whose expiry
   * passed (the provider could not be asked, or has not answered yet).
   */
  async list(state: ExpectedState, limit: number): Promise<ExpectedPaymentRow[]> {
    const now = new Date().toISOString();
    const where =
      state === 'overdue'
        ? `state = 'overdue' OR (state = 'open' AND expires_at < ?)`
        : `state = ?`;
    return this.sql.query<ExpectedPaymentRow>(
      `SELECT ${COLUMNS} FROM expected_payments WHERE ${where} ORDER BY created_at LIMIT ?`,
      [state === 'overdue' ? now : state, limit],
    );
  }

  /** Ends following: the provider's final state, or an operator's attention after the expiry. */
  async close(
    key: TransactionKey,
    outcome: { state: Exclude<ExpectedState, 'open'>; finalStatus: string | null; result: string },
  ): Promise<{ foundByInquiry: boolean } | null> {
    const now = new Date().toISOString();
    return this.sql.transact(function* () {
      const callbacks = yield step(
        `SELECT 1 FROM callbacks WHERE ${KEY} AND method <> 'INQUIRY' LIMIT 1`,
        [...keyParams(key)],
      );
      const foundByInquiry = outcome.state === 'settled' && callbacks.length === 0;
      const closed = yield step(
        `UPDATE expected_payments SET state = ?, final_status = ?, found_by_inquiry = ?, last_result = ?,
                closed_at = ?
         WHERE ${KEY} AND state = 'open' RETURNING provider`,
        [
          outcome.state,
          outcome.finalStatus,
          foundByInquiry ? 1 : 0,
          outcome.result.slice(0, 1000),
          now,
          ...keyParams(key),
        ],
      );
      if (closed.length === 0) return null;
      yield step(`UPDATE inquiry_schedule SET follow_until = NULL WHERE ${KEY}`, [
        ...keyParams(key),
      ]);
      return { foundByInquiry };
    });
  }

  /** What the last inquiry about an open expected payment decided. */
  async note(key: TransactionKey, result: string): Promise<void> {
    await this.sql.query(
      `UPDATE expected_payments SET last_result = ? WHERE ${KEY} AND state = 'open'`,
      [result.slice(0, 1000), ...keyParams(key)],
    );
  }

  /** The figures behind the gauges: open, overdue (open past expiry, or listed), oldest open. */
  async figures(): Promise<{ open: number; overdue: number; oldestOpen: Date | null }> {
    const now = new Date().toISOString();
    const [row] = await this.sql.query<{
      open: string | number;
      overdue: string | number;
      oldest: string | Date | null;
    }>(
      `SELECT
         SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END) AS open,
         SUM(CASE WHEN state IN ('overdue', 'unknown') OR (state = 'open' AND expires_at < ?) THEN 1 ELSE 0 END) AS overdue,
         MIN(CASE WHEN state = 'open' THEN created_at END) AS oldest
       FROM expected_payments WHERE state <> 'settled'`,
      [now],
    );
    return {
      open: Number(row?.open ?? 0),
      overdue: Number(row?.overdue ?? 0),
      oldestOpen: row?.oldest ? new Date(row.oldest) : null,
    };
  }
}
