import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { transactionKeyOf } from '../events/normalized-transaction.js';
import { buildTransactionEvent } from '../events/transaction-event.js';
import { OutboxRelay } from '../messaging/outbox-relay.js';
import { CallbackStore, type OutboxRecord } from '../persistence/callback-store.js';
import type { CallbackAck, CallbackProvider, InboundCallback } from './callback-provider.js';
import type { GatewayRequest } from './gateway-request.js';
import { validateFields } from './validate-fields.js';

const ALWAYS_RECORDED_HEADERS = [
  'content-type',
  'content-length',
  'user-agent',
  'x-forwarded-for',
  'x-request-id',
];

export interface IngestResult {
  ack: CallbackAck;
  outcome: 'accepted' | 'duplicate';
  eventId: string;
}

/**
 * The pipeline every provider's callback goes through after its guard authenticated it:
 * validate → normalize → store callback + outbox row in one transaction → ack → publish.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly store: CallbackStore,
    private readonly relay: OutboxRelay,
  ) {}

  async ingest<Dto extends object>(
    provider: CallbackProvider<Dto>,
    req: GatewayRequest,
  ): Promise<IngestResult> {
    const { inbound, verified } = req.callback ?? {};
    if (!inbound || !verified)
      throw new Error(`${provider.displayName} route is missing its guard`);

    const dto = validateFields(provider.dto, verified.fields, `${provider.displayName} callback`);
    const transaction = provider.normalize(dto, verified);
    const callbackId = randomUUID();
    const event = buildTransactionEvent({
      provider: provider.name,
      account: verified.account,
      callbackId,
      receivedAt: inbound.receivedAt,
      transaction,
    });
    const record: OutboxRecord = {
      eventId: event.id,
      provider: provider.name,
      eventType: event.type,
      routingKey: event.routingKey,
      payload: JSON.stringify(event.body),
      createdAt: inbound.receivedAt,
    };
    const lease = this.relay.leaseForNewRow();

    let stored: boolean;
    try {
      ({ stored } = await this.store.storeAccepted(
        {
          id: callbackId,
          provider: provider.name,
          account: verified.account,
          transactionKey: transactionKeyOf(transaction),
          status: transaction.status,
          merchantReference: transaction.merchantReference,
          eventId: event.id,
          sourceIp: inbound.clientIp,
          method: inbound.method,
          path: inbound.path,
          headers: recordedHeaders(inbound, provider.recordedHeaders ?? []),
          rawBody: inbound.rawBody,
          verification: verified.verification,
          receivedAt: inbound.receivedAt,
        },
        record,
        lease,
      ));
    } catch (error) {
      // Not stored means not acknowledged: a 503 makes the provider retry.
      this.logger.error(
        `Storing a ${provider.displayName} callback failed: ${(error as Error).message}`,
      );
      throw new ServiceUnavailableException('The callback could not be stored; retry later');
    }

    if (stored && lease) this.relay.publishCommitted(record);
    return { ack: provider.ack(), outcome: stored ? 'accepted' : 'duplicate', eventId: event.id };
  }
}

function recordedHeaders(
  inbound: InboundCallback,
  extra: readonly string[],
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of [...ALWAYS_RECORDED_HEADERS, ...extra]) {
    const value = inbound.headers[name];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}
