import type { EventMessage } from '../messaging/event-publisher.js';

/**
 * One outbox row: the event as the publisher sends it, stored in the same database transaction
 * as the state change it announces (the relay publishes it after the commit).
 */
export type OutboxRecord = EventMessage;

export const OUTBOX_COLUMNS = `(event_id, callback_id, provider, event_type, routing_key, payload, created_at, lease_owner, lease_until)`;

/** The parameters of one outbox row, in OUTBOX_COLUMNS order. */
export function outboxRowParams(
  record: OutboxRecord,
  callbackId: string | null,
  lease: { owner: string; until: Date } | null | undefined,
): unknown[] {
  return [
    record.eventId,
    callbackId,
    record.provider,
    record.eventType,
    record.routingKey,
    record.payload,
    record.createdAt.toISOString(),
    lease?.owner ?? null,
    lease?.until.toISOString() ?? null,
  ];
}
