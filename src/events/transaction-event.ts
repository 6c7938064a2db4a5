import { uuidV5 } from '../common/uuid-v5.js';
import {
  type EventStatus,
  type NormalizedTransaction,
  transactionKeyOf,
} from './normalized-transaction.js';

/** Version of the event contract, sent as the `schema-version` header. */
export const EVENT_SCHEMA_VERSION = '1';
export const EVENT_CONTENT_TYPE = 'application/cloudevents+json';
/** Namespace of the deterministic (v5) event ids. Changing it changes every id: never do. */
export const EVENT_ID_NAMESPACE = '6f3d2c1e-8b4a-5e7f-9c0d-1a2b3c4d5e6f';

/** The event's `data`: the normalized transaction, with its provenance and times as RFC 3339. */
export type TransactionEventData = Omit<NormalizedTransaction, 'domain' | 'occurredAt' | 'identifiedBy'> & {
  provider: string;
  account: string;
  occurredAt: string;
  receivedAt: string;
  callbackId: string;
};

/** CloudEvents 1.0, structured mode. */
export interface TransactionCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: TransactionEventData;
}

export interface TransactionEvent {
  id: string;
  type: string;
  routingKey: string;
  provider: string;
  body: TransactionCloudEvent;
}

export function eventIdFor(
  provider: string,
  account: string,
  transactionKey: string,
  status: EventStatus,
): string {
  return uuidV5(JSON.stringify([provider, account, transactionKey, status]), EVENT_ID_NAMESPACE);
}

export function buildTransactionEvent(input: {
  provider: string;
  account: string;
  callbackId: string;
  receivedAt: Date;
  transaction: NormalizedTransaction;
}): TransactionEvent {
  const { provider, account, callbackId, receivedAt, transaction: tx } = input;
  const id = eventIdFor(provider, account, transactionKeyOf(tx), tx.status);
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
      data: {
        provider,
        account,
        status: tx.status,
        providerStatus: tx.providerStatus,
        providerTransactionId: tx.providerTransactionId,
        merchantReference: tx.merchantReference,
        amount: tx.amount,
        currency: tx.currency,
        fee: tx.fee,
        paymentMethod: tx.paymentMethod,
        channel: tx.channel,
        product: tx.product,
        occurredAt,
        receivedAt: receivedAt.toISOString(),
        callbackId,
        raw: tx.raw,
      },
    },
  };
}
