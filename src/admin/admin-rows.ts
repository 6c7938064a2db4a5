/** The rows the admin services read, and how they are shown. */
import { NotFoundException } from '@nestjs/common';
import type { SqlDialect } from '../persistence/sql-dialect.js';
import type { HeldClaimView, OutboxEventView, TransactionActionView } from './admin.dto.js';

export type Timestamp = string | Date;

export interface CallbackRow {
  id: string;
  provider: string;
  account: string | null;
  credential_key: string | null;
  transaction_key: string | null;
  status: string | null;
  merchant_reference: string | null;
  event_id: string | null;
  outcome: string;
  source_ip: string;
  method: string;
  path: string;
  headers: string;
  raw_body: string;
  raw_body_encoding: 'utf8' | 'base64';
  verification: string;
  received_at: Timestamp;
  quarantine: string | null;
}

export interface OutboxRow {
  event_id: string;
  callback_id: string;
  event_type: string;
  routing_key: string;
  payload: string;
  created_at: Timestamp;
  published_at: Timestamp | null;
  attempts: number | string;
  last_error: string | null;
  lease_until: Timestamp | null;
}

export const iso = (value: Timestamp): string => new Date(value).toISOString();
export const isoOrNull = (value: Timestamp | null): string | null =>
  value === null ? null : iso(value);

export function parsePayload(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsable: text };
  }
}

export interface AuditRow {
  at: Timestamp;
  action: string;
  target: string | null;
  details: string;
}

/** An admin_audit row as operators read it: who, what, on what, why, how it ended. */
export function auditView(row: AuditRow): TransactionActionView & { method: string } {
  const details = parsePayload(row.details);
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    at: iso(row.at),
    action: row.action,
    target: row.target,
    operator: text(details.operator),
    reason: text(details.reason),
    status: typeof details.status === 'number' ? details.status : null,
    method: text(details.method) ?? 'GET',
  };
}

/** What a hint claims (its held event's facts), as stored with its verification. */
export function claimOf(eventJson: string): HeldClaimView {
  const stored = parsePayload(eventJson) as {
    event?: { body?: { data?: Record<string, unknown> } };
  };
  const data = stored.event?.body?.data ?? {};
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    status: text(data.status),
    providerStatus: text(data.providerStatus),
    merchantReference: text(data.merchantReference),
    providerTransactionId: text(data.providerTransactionId),
    amount: text(data.amount),
    currency: text(data.currency),
  };
}

export function eventView(row: OutboxRow): OutboxEventView {
  const payload = parsePayload(row.payload);
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    routingKey: row.routing_key,
    createdAt: iso(row.created_at),
    publishedAt: isoOrNull(row.published_at),
    attempts: Number(row.attempts),
    lastError: row.last_error,
    leaseUntil: isoOrNull(row.lease_until),
    payload,
  };
}

/** One stored callback, whole; 404 when there is none. */
export async function loadCallback(sql: SqlDialect, id: string): Promise<CallbackRow> {
  const [row] = await sql.query<CallbackRow>(
    `SELECT id, provider, account, credential_key, transaction_key, status, merchant_reference, event_id,
              outcome, source_ip, method, path, headers, raw_body, raw_body_encoding, verification, received_at,
              quarantine
       FROM callbacks WHERE id = ?`,
    [id],
  );
  if (!row) throw new NotFoundException(`No callback ${id}`);
  return row;
}
