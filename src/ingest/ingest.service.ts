import {
  BadRequestException,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { uuidV7 } from '../common/uuid-v7.js';
import {
  type NormalizedTransaction,
  transactionKeyOf,
  transitionKeyOf,
} from '../events/normalized-transaction.js';
import { buildTransactionEvent } from '../events/transaction-event.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { inSpan } from '../observability/tracing.js';
import {
  type AcceptedCallbackRecord,
  CallbackStore,
  type QuarantinedCallbackRecord,
  type StoreOutcome,
} from '../transactions/callback-store.js';
import type { CallbackAck, CallbackProvider, InboundCallback } from './callback-provider.js';
import type { GatewayRequest } from './gateway-request.js';
import { validateFields } from '../common/validate-fields.js';
import { VerificationService } from '../verification/verification.service.js';
import { hintIdOf } from '../verification/verification.store.js';

const ALWAYS_RECORDED_HEADERS = [
  'content-type',
  'content-length',
  'user-agent',
  'x-forwarded-for',
  'x-request-id',
];

export interface IngestResult {
  ack: CallbackAck;
  outcome: StoreOutcome['outcome'] | 'quarantined';
  /**
   * The event the callback stands for; null when quarantined (no event until renormalized) and
   * for a hint (its event comes from the provider's answer).
   */
  eventId: string | null;
}

/** What is stored of every authentic callback, whatever becomes of it. */
type StoredRequest = Omit<QuarantinedCallbackRecord, 'errors' | 'fields'>;

/** Why an authentic callback could not be normalized: the field problems, or the mapper's error. */
function problemsOf(error: unknown): string[] {
  if (error instanceof BadRequestException) {
    const response = error.getResponse() as { message?: unknown; errors?: unknown };
    if (Array.isArray(response.errors)) return response.errors.map(String);
    return [String(response.message ?? error.message)];
  }
  return [`mapper failed: ${(error as Error)?.message ?? String(error)}`];
}

/**
 * The pipeline every provider's callback goes through after its guard authenticated it:
 * validate → normalize → store callback + state transition + outbox row in one transaction → ack
 * → publish. An authentic callback that fails validation (or the mapper) is stored `quarantined`
 * and acknowledged: never lost, never published until an admin renormalizes it.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly store: CallbackStore,
    private readonly relay: OutboxRelay,
    private readonly verification: VerificationService,
  ) {}

  async ingest<Dto extends object>(
    provider: CallbackProvider<Dto>,
    req: GatewayRequest,
  ): Promise<IngestResult> {
    const { inbound, verified } = req.callback ?? {};
    if (!inbound || !verified)
      throw new Error(`${provider.displayName} route is missing its guard`);

    const callbackId = uuidV7();
    const request: StoredRequest = {
      id: callbackId,
      provider: provider.name,
      account: verified.account,
      credentialKey: verified.key ?? null,
      sourceIp: inbound.clientIp,
      method: inbound.method,
      path: inbound.path,
      headers: recordedHeaders(inbound, provider.recordedHeaders ?? []),
      rawBody: inbound.rawBody,
      verification: verified.verification,
      receivedAt: inbound.receivedAt,
    };
    let transaction: NormalizedTransaction;
    try {
      const dto = validateFields(provider.dto, verified.fields, `${provider.displayName} callback`);
      transaction = provider.normalize(dto, verified);
    } catch (error) {
      return this.quarantine(provider, request, verified.fields, problemsOf(error));
    }
    const event = buildTransactionEvent({
      provider: provider.name,
      account: verified.account,
      callbackId,
      receivedAt: inbound.receivedAt,
      transaction,
    });
    // Where the scheme cannot prove the status, the callback is a hint: stored (de-duplicated as
    // exact bytes only, never holding the event's place) and acknowledged; the event comes from
    // the provider's status API, asked after the ack.
    if (this.verification.verifierFor(provider.name, verified.account)) {
      let held: 'verifying' | 'duplicate';
      try {
        held = await this.verification.storeHint(
          acceptedRecord(
            request,
            transaction,
            hintIdOf(provider.name, verified.account, inbound.rawBody),
          ),
          event,
        );
      } catch (error) {
        throw this.unavailable(provider, error);
      }
      return {
        ack: provider.ack(),
        outcome: held === 'duplicate' ? 'duplicate' : 'accepted',
        eventId: null,
      };
    }
    const accepted = acceptedRecord(request, transaction, event.id);
    const lease = this.relay.leaseForNewRow();

    let result: StoreOutcome;
    try {
      result = await inSpan(
        'callback store',
        { 'gateway.provider': provider.name, 'gateway.event_id': event.id },
        () => this.store.storeAccepted(accepted, event, lease),
      );
    } catch (error) {
      throw this.unavailable(provider, error);
    }

    if (result.outbox && lease) this.relay.publishCommitted(result.outbox);
    return { ack: provider.ack(), outcome: result.outcome, eventId: event.id };
  }

  private async quarantine(
    provider: CallbackProvider,
    request: StoredRequest,
    fields: Record<string, unknown>,
    problems: string[],
  ): Promise<IngestResult> {
    try {
      await this.store.storeQuarantined({ ...request, errors: problems, fields });
    } catch (error) {
      throw this.unavailable(provider, error);
    }
    this.logger.error(
      `Quarantined authentic ${provider.displayName} callback ${request.id}: it fails validation ` +
        `(${problems.join('; ')}); no event until it is renormalized (POST /admin/callbacks/${request.id}/renormalize)`,
    );
    return { ack: provider.ack(), outcome: 'quarantined', eventId: null };
  }

  /** Not stored means not acknowledged: a 503 makes the provider retry. */
  private unavailable(provider: CallbackProvider, error: unknown): ServiceUnavailableException {
    this.logger.error(
      `Storing a ${provider.displayName} callback failed: ${(error as Error).message}`,
    );
    return new ServiceUnavailableException('The callback could not be stored; retry later');
  }
}

/**
 * The stored request as an accepted record, written out member by member: an object spread
 * followed by new members (`{ ...request, transactionKey, … }`) took V8 8 µs per callback, a
 * literal 30 ns (issue 28).
 */
function acceptedRecord(
  request: StoredRequest,
  transaction: NormalizedTransaction,
  eventId: string,
): AcceptedCallbackRecord {
  return {
    id: request.id,
    provider: request.provider,
    account: request.account,
    credentialKey: request.credentialKey,
    sourceIp: request.sourceIp,
    method: request.method,
    path: request.path,
    headers: request.headers,
    rawBody: request.rawBody,
    verification: request.verification,
    receivedAt: request.receivedAt,
    transactionKey: transactionKeyOf(transaction),
    status: transaction.status,
    transitionKey: transitionKeyOf(transaction),
    merchantReference: transaction.merchantReference,
    eventId,
  };
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
