import {
  BadRequestException,
  ConflictException,
  HttpException,
  Injectable,
  UnprocessableEntityException,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { uuidV5 } from '../common/uuid-v5.js';
import { validateFields } from '../common/validate-fields.js';
import { transactionKeyOf, transitionKeyOf } from '../events/normalized-transaction.js';
import {
  buildTransactionEvent,
  EVENT_ID_NAMESPACE,
  type TransactionCloudEvent,
} from '../events/transaction-event.js';
import { CallbackProviderRegistry } from '../ingest/provider-registry.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { OUTBOX_COLUMNS, type OutboxRecord, outboxRowParams } from '../outbox/outbox-record.js';
import { SqlDialect, step } from '../persistence/sql-dialect.js';
import { searchableReference } from '../transactions/callback-store.js';
import { applyObservation } from '../transactions/transaction-states.js';
import { VerificationService } from '../verification/verification.service.js';
import { hintIdOf } from '../verification/verification.store.js';
import type { RenormalizeResult } from './admin.dto.js';
import { type CallbackRow, loadCallback, type OutboxRow } from './admin-rows.js';

/** What renormalization compares: the event minus what differs per delivery (receipt time, callback id). */
function comparable(event: TransactionCloudEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event.data };
  delete data.receivedAt;
  delete data.callbackId;
  return { type: event.type, subject: event.subject, data };
}

function differences(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const key of ['type', 'subject'])
    if (!isDeepStrictEqual(before[key], after[key])) found.push(key);
  const a = (before.data ?? {}) as Record<string, unknown>;
  const b = (after.data ?? {}) as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (!isDeepStrictEqual(a[key], b[key])) found.push(`data.${key}`);
  }
  return found;
}

/** JSON with object keys sorted, so equal content always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The id of a renormalized event: a UUID v5 (the event namespace) of the usual inputs — provider,
 * account, transaction, status — plus `renormalized` and the SHA-256 of the event's content
 * (type, subject, data without receivedAt/callbackId). Never equal to a first-delivery id (those
 * hash four inputs), different for every different result, and the same for the same result: the
 * same mapper output cannot become two events.
 */
export function renormalizedEventId(
  provider: string,
  account: string,
  transactionKey: string,
  status: string,
  content: Record<string, unknown>,
): string {
  const digest = createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
  return uuidV5(
    JSON.stringify([provider, account, transactionKey, status, 'renormalized', digest]),
    EVENT_ID_NAMESPACE,
  );
}

/** POST /admin/callbacks/:id/renormalize: a stored callback through the current validation and mapper. */
@Injectable()
export class RenormalizationService {
  constructor(
    private readonly sql: SqlDialect,
    private readonly relay: OutboxRelay,
    private readonly providers: CallbackProviderRegistry,
    private readonly verification: VerificationService,
  ) {}

  /**
   * Runs the provider's current DTO validation and mapper again on the callback's fields and, when
   * the event differs from the latest one stored for the callback, stores and publishes a new event
   * (new id, see renormalizedEventId); earlier events stay as they are.
   *
   * The fields are the `data.raw` of the callback's first event: exactly the decoded (or
   * decrypted) fields the guard verified, which is what the mapper was given at the time —
   * authentication is not repeated (it proved the callback when it arrived, and some schemes
   * cannot be re-run without the original transport, e.g. an allowlisted source address).
   */
  async renormalize(id: string): Promise<{ status: number; body: RenormalizeResult }> {
    const callback = await loadCallback(this.sql, id);
    // A verified provider's callback is a hint: renormalizing never publishes its claim.
    if (this.verification.verifierFor(callback.provider, callback.account ?? undefined))
      return this.renormalizeHint(callback);
    if (callback.outcome === 'quarantined') return this.renormalizeQuarantined(callback);
    if (callback.outcome !== 'accepted' || !callback.event_id || !callback.account) {
      throw new ConflictException(
        `Callback ${id} was not accepted (${callback.outcome}): it has no event to renormalize`,
      );
    }
    const provider = this.providers.get(callback.provider);
    if (!provider)
      throw new ConflictException(`Provider ${callback.provider} is not part of this gateway`);

    const stored = await this.sql.query<OutboxRow>(
      `SELECT event_id, callback_id, event_type, routing_key, payload, created_at, published_at, attempts,
              last_error, lease_until
       FROM outbox WHERE callback_id = ? ORDER BY created_at, event_id`,
      [id],
    );
    const original = stored.find((row) => row.event_id === callback.event_id) ?? stored[0];
    const latest = stored.at(-1);
    if (!original || !latest) throw new ConflictException(`Callback ${id} has no stored event`);
    const raw = (JSON.parse(original.payload) as TransactionCloudEvent).data?.raw;
    if (raw === null || typeof raw !== 'object') {
      throw new ConflictException(`The stored event of callback ${id} has no raw fields`);
    }

    let event;
    try {
      const verified = {
        account: callback.account,
        fields: raw,
        verification: callback.verification,
      };
      const dto = validateFields(provider.dto, raw, `stored ${provider.displayName} callback`);
      const transaction = provider.normalize(dto, verified);
      event = buildTransactionEvent({
        provider: provider.name,
        account: callback.account,
        callbackId: callback.id,
        receivedAt: new Date(callback.received_at),
        transaction,
      });
      const latestEvent = JSON.parse(latest.payload) as TransactionCloudEvent;
      // A revision reports the same transition as the event it revises.
      if (typeof latestEvent.data?.transactionVersion === 'number') {
        event.body.data.previousStatus = latestEvent.data.previousStatus ?? null;
        event.body.data.transactionVersion = latestEvent.data.transactionVersion;
      }
      const content = comparable(event.body);
      const previous = comparable(latestEvent);
      const changed = differences(previous, content);
      if (changed.length === 0) {
        return {
          status: 200,
          body: {
            changed: false,
            outcome: callback.outcome,
            previousEventId: latest.event_id,
            eventId: null,
            routingKey: null,
            differences: [],
          },
        };
      }
      const eventId = renormalizedEventId(
        provider.name,
        callback.account,
        transactionKeyOf(transaction),
        transaction.status,
        content,
      );
      event = { ...event, id: eventId, body: { ...event.body, id: eventId } };
      const record: OutboxRecord = {
        eventId,
        provider: provider.name,
        eventType: event.type,
        routingKey: event.routingKey,
        payload: JSON.stringify(event.body),
        createdAt: new Date(),
      };
      const lease = this.relay.leaseForNewRow();
      const inserted = await this.sql.query(
        `INSERT INTO outbox ${OUTBOX_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
        outboxRowParams(record, callback.id, lease),
      );
      if (inserted.length === 0) {
        throw new ConflictException(
          `The current mapper's result was already stored as event ${eventId} (an earlier revision); ` +
            `re-publish it with POST /admin/events/${eventId}/republish if that is what you want`,
        );
      }
      if (lease) this.relay.publishCommitted(record);
      else void this.relay.sweep();
      return {
        status: 202,
        body: {
          changed: true,
          outcome: callback.outcome,
          previousEventId: latest.event_id,
          eventId,
          routingKey: record.routingKey,
          differences: changed,
        },
      };
    } catch (error) {
      if (error instanceof HttpException && !(error instanceof BadRequestException)) throw error;
      throw unprocessable(provider.displayName, error);
    }
  }

  /**
   * Renormalize of a callback of a verified provider (docs/verification.md): the provider's answer
   * is the event, so nothing the callback says is published here. A quarantined one that now
   * passes validation becomes a hint (the provider is asked); any other one — a hint in any state,
   * or a stored answer — makes the gateway ask the provider about its transaction now, and the
   * answer is applied as an inquiry's would be.
   */
  private async renormalizeHint(
    callback: CallbackRow,
  ): Promise<{ status: number; body: RenormalizeResult }> {
    const provider = this.providers.get(callback.provider);
    if (!provider || !callback.account)
      throw new ConflictException(`Callback ${callback.id} cannot be renormalized`);
    const account = callback.account;
    if (callback.outcome === 'quarantined') {
      const { transaction, event, receivedAt } = this.mapQuarantined(callback);
      const rawBody = Buffer.from(
        callback.raw_body,
        callback.raw_body_encoding === 'base64' ? 'base64' : 'utf8',
      );
      const outcome = await this.verification.hintFromQuarantine(
        {
          id: callback.id,
          provider: provider.name,
          account,
          transactionKey: transactionKeyOf(transaction),
          status: transaction.status,
          transitionKey: transitionKeyOf(transaction),
          eventId: hintIdOf(provider.name, account, rawBody),
          merchantReference: transaction.merchantReference,
          receivedAt,
        },
        event,
      );
      if (outcome === null)
        throw new ConflictException(`Callback ${callback.id} is no longer quarantined`);
      return {
        status: outcome === 'verifying' ? 202 : 200,
        body: {
          changed: true,
          outcome,
          previousEventId: null,
          eventId: null,
          routingKey: null,
          differences: [
            outcome === 'verifying'
              ? `outcome: quarantined → verifying (${provider.displayName} is asked; its answer is the event)`
              : 'outcome: quarantined → duplicate (the same callback is stored already)',
          ],
        },
      };
    }
    if (!callback.transaction_key) {
      throw new ConflictException(
        `Callback ${callback.id} (${callback.outcome}) names no transaction: there is nothing to ask ${provider.displayName} about`,
      );
    }
    const asked = await this.verification.askAbout({
      provider: provider.name,
      account,
      transactionKey: callback.transaction_key,
    });
    if (asked === 'busy') {
      throw new ConflictException(
        `Another replica is asking ${provider.displayName} about this transaction right now; try again in a minute`,
      );
    }
    return {
      status: asked.eventId ? 202 : 200,
      body: {
        changed: asked.eventId !== null,
        outcome: callback.outcome,
        previousEventId: null,
        eventId: asked.eventId,
        routingKey: null,
        differences: [`${provider.displayName} asked: ${asked.decision}`],
      },
    };
  }

  /**
   * A quarantined callback through the current validation and mapper: when it now passes, it
   * becomes what it would have been on arrival — in one transaction its row gets its transaction
   * identity and outcome, and its status is applied to the transaction's state: a transition is
   * `accepted` and its event published, anything else `superseded`; a copy of a callback stored
   * meanwhile becomes `duplicate`. Its errors stay on record.
   */
  /** A quarantined callback's verified fields through the current validation and mapper (422 when they still fail). */
  private mapQuarantined(callback: CallbackRow) {
    const provider = this.providers.get(callback.provider);
    if (!provider || !callback.account || !callback.quarantine)
      throw new ConflictException(`Callback ${callback.id} cannot be renormalized`);
    const fields = (JSON.parse(callback.quarantine) as { fields: Record<string, unknown> }).fields;
    const account = callback.account;
    let transaction;
    try {
      const dto = validateFields(provider.dto, fields, `stored ${provider.displayName} callback`);
      transaction = provider.normalize(dto, {
        account,
        fields,
        verification: callback.verification,
      });
    } catch (error) {
      throw unprocessable(provider.displayName, error);
    }
    const receivedAt = new Date(callback.received_at);
    const event = buildTransactionEvent({
      provider: provider.name,
      account,
      callbackId: callback.id,
      receivedAt,
      transaction,
    });
    return { provider, account, transaction, event, receivedAt };
  }

  private async renormalizeQuarantined(
    callback: CallbackRow,
  ): Promise<{ status: number; body: RenormalizeResult }> {
    const { provider, account, transaction, event, receivedAt } = this.mapQuarantined(callback);
    const identity = {
      transactionKey: transactionKeyOf(transaction),
      status: transaction.status,
      transitionKey: transitionKeyOf(transaction),
    };
    const lease = this.relay.leaseForNewRow();
    const result = await this.sql.transact(function* (context) {
      const [claimed] = yield step(
        `UPDATE callbacks SET outcome = 'renormalizing' WHERE id = ? AND outcome = 'quarantined' RETURNING id`,
        [callback.id],
      );
      if (!claimed) return null;
      // The event id is derived from the de-duplication key: a copy holds the same id.
      const copies = yield step(`SELECT id FROM callbacks WHERE event_id = ?`, [event.id]);
      const set = (outcome: string, key: unknown[], eventId: string | null) =>
        step(
          `UPDATE callbacks SET outcome = ?, transaction_key = ?, status = ?, transition_key = ?,
                  merchant_reference = ?, event_id = ?
           WHERE id = ?`,
          [
            outcome,
            ...key,
            searchableReference(transaction.merchantReference),
            eventId,
            callback.id,
          ],
        );
      // A duplicate keeps no key and no event id: the unique index belongs to the copy stored first.
      if (copies.length > 0) {
        yield set('duplicate', [null, null, ''], null);
        return { outcome: 'duplicate' as const, outbox: null };
      }
      const key = [identity.transactionKey, identity.status, identity.transitionKey];
      yield set('accepted', key, event.id);
      const applied = yield* applyObservation(context, {
        provider: provider.name,
        account,
        transactionKey: identity.transactionKey,
        status: identity.status,
        refundedTotal: identity.transitionKey || null,
        observedAt: receivedAt,
        callbackId: callback.id,
        event,
        lease,
      });
      if (applied.verdict === 'transition')
        return { outcome: 'accepted' as const, outbox: applied.outbox };
      yield set('superseded', key, event.id);
      return { outcome: 'superseded' as const, outbox: null };
    });
    if (!result) throw new ConflictException(`Callback ${callback.id} is no longer quarantined`);
    if (result.outbox) {
      if (lease) this.relay.publishCommitted(result.outbox);
      else void this.relay.sweep();
    }
    return {
      status: result.outbox ? 202 : 200,
      body: {
        changed: true,
        outcome: result.outcome,
        previousEventId: null,
        eventId: result.outbox ? event.id : null,
        routingKey: result.outbox ? event.routingKey : null,
        differences: [`outcome: quarantined → ${result.outcome}`],
      },
    };
  }
}

/** Why the current validation or mapper refuses stored fields: 422 with the field errors. */
function unprocessable(provider: string, error: unknown): UnprocessableEntityException {
  if (error instanceof BadRequestException) {
    const response = error.getResponse() as { message?: string; errors?: string[] };
    return new UnprocessableEntityException({
      message: `The stored fields do not pass the current ${provider} validation: ${response.message ?? ''}`,
      errors: response.errors,
    });
  }
  return new UnprocessableEntityException(
    `The current ${provider} mapper failed on the stored fields: ${(error as Error).message}`,
  );
}
