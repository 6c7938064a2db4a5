import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';

/** The CloudEvents 1.0 structured-mode envelope the gateway publishes (README, "Events"). */
export interface CloudEvent<T = unknown> {
  specversion: string;
  /** Event id: UUID v5 of (provider, account, transaction, status), equal to the AMQP messageId. */
  id: string;
  source: string;
  /** `<domain>.<status>`, e.g. `payment.succeeded`: the pattern handlers are chosen by. */
  type: string;
  /** The merchant's own reference (order id). */
  subject?: string;
  time?: string;
  datacontenttype?: string;
  data: T;
}

/** The normalized transaction in `data` (openapi/transaction-event.schema.json); the fields used here. */
export interface Transaction {
  provider: string;
  account: string;
  status: string;
  providerTransactionId: string | null;
  merchantReference: string;
  /** Decimal string, never a float; null where the provider sends none. */
  amount: string | null;
  currency: string;
  occurredAt: string;
  receivedAt: string;
  callbackId: string;
  /** The transaction's status before this event; null for its first. */
  previousStatus?: string | null;
  /** Higher on every transition (clock-derived, with gaps): apply it only if above the version held. */
  transactionVersion?: number;
}

/** Pattern given to a message that is not a CloudEvent: no handler matches it, so it is rejected. */
export const NOT_A_CLOUD_EVENT = 'not-a-cloudevent';

/**
 * Turns an AMQP message whose body is a CloudEvent into the `{ pattern, data }` packet Nest routes
 * by: `pattern` = the event's `type`, `data` = the whole CloudEvent.
 *
 * What Nest 12's `ServerRMQ.handleMessage` passes in: `value` = `JSON.parse(content)` (or the raw
 * string when the body is not JSON) and `properties` = the AMQP message properties (`messageId`,
 * `type`, `contentType`, `headers`, …). The routing key and `redelivered` flag are not passed; they
 * are on `RmqContext#getMessage().fields` in the handler.
 *
 * Why a custom deserializer is needed: the default `IncomingRequestDeserializer` takes any body with
 * a `data` property for an internal Nest packet and uses it as is, so a CloudEvent would get
 * pattern `undefined` and, because it has an `id`, be treated as a request expecting a reply. The
 * packet returned here must therefore carry no top-level `id`: without one, ServerRMQ dispatches it
 * as an event to `@EventPattern(type)`.
 */
export class CloudEventDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown, properties: Record<string, unknown> = {}): IncomingEvent {
    if (!isObject(value) || typeof value.type !== 'string' || value.type === '') {
      return { pattern: NOT_A_CLOUD_EVENT, data: value };
    }
    // The gateway sets messageId = event id; keep it if a producer sent an event without `id`.
    const id =
      typeof value.id === 'string' && value.id !== ''
        ? value.id
        : typeof properties.messageId === 'string'
          ? properties.messageId
          : undefined;
    return { pattern: value.type, data: { ...value, id } };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
