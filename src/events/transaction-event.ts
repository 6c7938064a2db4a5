import { canonicalDecimal, isDecimalString } from '../common/decimal.js';
import { uuidV5 } from '../common/uuid-v5.js';
import { activeTraceContext } from '../observability/tracing.js';
import {
  type EventStatus,
  type NormalizedTransaction,
  transactionKeyOf,
  transitionKeyOf,
} from './normalized-transaction.js';

/** Version of the event contract, sent as the `schema-version` header. */
export const EVENT_SCHEMA_VERSION = '1';
export const EVENT_CONTENT_TYPE = 'application/cloudevents+json';
/** Namespace of the deterministic (v5) event ids. Changing it changes every id: never do. */
export const EVENT_ID_NAMESPACE = '6f3d2c1e-8b4a-5e7f-9c0d-1a2b3c4d5e6f';

/**
 * How the published status was proven: by the callback's own scheme (`signature`), by the
 * provider's status API (`inquiry` after a callback, `reconciliation` without one), or by an
 * operator who checked with the provider by hand (`operator`, with who and why).
 */
export interface EventVerification {
  method: 'signature' | 'inquiry' | 'reconciliation' | 'operator';
  /** RFC 3339. */
  at: string;
  /** `operator`: who published it (the admin key's fingerprint). */
  by?: string;
  /** `operator`: the reason the operator gave. */
  reason?: string;
}

/** The transaction's state move an event reports (see src/events/transitions.ts). */
export interface EventTransition {
  /** The state before this event; null for the transaction's first. */
  previousStatus: EventStatus | null;
  /** 1, 2, 3… per (provider, account, transaction). */
  transactionVersion: number;
}

/** The event's `data`: the normalized transaction, with its provenance and times as RFC 3339. */
export type TransactionEventData = Omit<
  NormalizedTransaction,
  'domain' | 'occurredAt' | 'identifiedBy' | 'refundedTotal'
> & {
  provider: string;
  account: string;
  occurredAt: string;
  receivedAt: string;
  callbackId: string;
  /**
   * The transaction's identity at the provider, as the gateway keys it: with provider and account,
   * what transactionVersion counts per. Absent from events stored before it was added.
   */
  transactionKey?: string;
  verification: EventVerification;
} & Partial<EventTransition>;

/** CloudEvents 1.0, structured mode. */
export interface TransactionCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** CloudEvents distributed-tracing extension: the W3C trace context the event was created in. */
  traceparent?: string;
  tracestate?: string;
  data: TransactionEventData;
}

export interface TransactionEvent {
  id: string;
  type: string;
  routingKey: string;
  provider: string;
  body: TransactionCloudEvent;
}

/**
 * The deterministic event id. `transitionKey` (the canonical refunded total of a further partial
 * refund, see transitionKeyOf) is part of it only when not empty, so ids of every other event are
 * what they always were.
 */
export function eventIdFor(
  provider: string,
  account: string,
  transactionKey: string,
  status: EventStatus,
  transitionKey = '',
): string {
  const inputs: string[] = [provider, account, transactionKey, status];
  if (transitionKey !== '') inputs.push(transitionKey);
  return uuidV5(JSON.stringify(inputs), EVENT_ID_NAMESPACE);
}

/**
 * The published JSON of an event whose body was built without its transition: the transition's
 * two fields are appended to `data`, the body's last member. The batched PostgreSQL write does the
 * same in SQL from `payloadHead` (callback-store.ts): keep the two spellings identical.
 */
export function renderPayload(body: TransactionCloudEvent, transition: EventTransition): string {
  return `${payloadHead(body)}${transitionJson(transition)}}}`;
}

/** The body's JSON without its closing `}}` (data's and the body's). */
export function payloadHead(body: TransactionCloudEvent): string {
  // A body built by buildTransactionEvent has no transition yet: written as it is, no copy.
  let json: string;
  if (!hasTransition(body.data)) json = JSON.stringify(body);
  else {
    const data: Partial<TransactionEventData> = { ...body.data };
    delete data.previousStatus;
    delete data.transactionVersion;
    json = JSON.stringify({ ...body, data });
  }
  if (!json.endsWith('}}')) throw new Error('event data must be the last member of the body');
  return json.slice(0, -2);
}

/** True when the data already holds a transition member (a body read back from storage). */
export function hasTransition(data: TransactionEventData): boolean {
  return Object.hasOwn(data, 'previousStatus') || Object.hasOwn(data, 'transactionVersion');
}

export function transitionJson(transition: EventTransition): string {
  const previous =
    transition.previousStatus === null ? 'null' : JSON.stringify(transition.previousStatus);
  return `,"previousStatus":${previous},"transactionVersion":${transition.transactionVersion}`;
}

/** A decimal amount in canonical form (canonicalDecimal); anything else as it is. */
function canonicalMoney(value: string | null): string | null {
  return value !== null && isDecimalString(value) ? canonicalDecimal(value) : value;
}

export function buildTransactionEvent(input: {
  provider: string;
  account: string;
  callbackId: string;
  receivedAt: Date;
  transaction: NormalizedTransaction;
  /** Default: proven by the callback's own scheme when it was received. */
  verification?: EventVerification;
}): TransactionEvent {
  const { provider, account, callbackId, receivedAt, transaction: tx } = input;
  const id = eventIdFor(provider, account, transactionKeyOf(tx), tx.status, transitionKeyOf(tx));
  const type = `${tx.domain}.${tx.status}`;
  const occurredAt = (tx.occurredAt ?? receivedAt).toISOString();
  return {
    id,
    type,
    routingKey: `${type}.${provider}`,
    provider,
    body: {
      specversion: '1.0',
      id,
      source: `/providers/${provider}/${account}`,
      type,
      subject: tx.merchantReference,
      time: occurredAt,
      datacontenttype: 'application/json',
      // Before data, which must stay the last member (payloadHead).
      ...activeTraceContext(),
      data: {
        provider,
        account,
        status: tx.status,
        providerStatus: tx.providerStatus,
        providerTransactionId: tx.providerTransactionId,
        merchantReference: tx.merchantReference,
        // One canonical decimal form whatever the provider sent (`150000.00` → `150000`); the
        // provider's own text stays in raw.
        amount: canonicalMoney(tx.amount),
        currency: tx.currency,
        fee: canonicalMoney(tx.fee),
        paymentMethod: tx.paymentMethod,
        channel: tx.channel,
        product: tx.product,
        occurredAt,
        receivedAt: receivedAt.toISOString(),
        callbackId,
        // What transactionVersion counts per (with provider and account): read it, never rebuild it.
        transactionKey: transactionKeyOf(tx),
        verification: input.verification ?? { method: 'signature', at: receivedAt.toISOString() },
        raw: tx.raw,
      },
    },
  };
}
