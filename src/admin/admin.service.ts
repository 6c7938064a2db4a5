import {
  BadRequestException,
  ConflictException,
  HttpException,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { uuidV5 } from '../common/uuid-v5.js';
import { transactionKeyOf, transitionKeyOf } from '../events/normalized-transaction.js';
import {
  buildTransactionEvent,
  EVENT_ID_NAMESPACE,
  type TransactionCloudEvent,
} from '../events/transaction-event.js';
import { validateFields } from '../common/validate-fields.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { OUTBOX_COLUMNS, type OutboxRecord, outboxRowParams } from '../outbox/outbox-record.js';
import { searchableReference } from '../transactions/callback-store.js';
import { SqlDialect, step } from '../persistence/sql-dialect.js';
import { applyObservation, type TransactionStateRow } from '../transactions/transaction-states.js';
import {
  isStorableTime,
  type CallbackDetail,
  type CallbackListItem,
  type CallbackPage,
  type CallbackSearchQuery,
  DEFAULT_PAGE_SIZE,
  type OutboxEventView,
  type RenormalizeResult,
  type RepublishResult,
  type HeldClaimView,
  type TransactionActionView,
  type TransactionDetail,
  type TransactionVerificationView,
} from './admin.dto.js';
import { CallbackProviderRegistry } from '../ingest/provider-registry.js';
import { VerificationService } from '../verification/verification.service.js';
import { hintIdOf } from '../verification/verification.store.js';

type Timestamp = string | Date;

interface CallbackRow {
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

interface ListRow extends Pick<
  CallbackRow,
  | 'id'
  | 'provider'
  | 'account'
  | 'credential_key'
  | 'outcome'
  | 'status'
  | 'merchant_reference'
  | 'transaction_key'
  | 'received_at'
  | 'event_id'
> {
  published_at: Timestamp | null;
  events: number | string;
  unpublished: number | string;
}

interface OutboxRow {
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

const iso = (value: Timestamp): string => new Date(value).toISOString();
const isoOrNull = (value: Timestamp | null): string | null => (value === null ? null : iso(value));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque keyset cursor: the (received_at, id) of the last row of the page. */
function encodeCursor(receivedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([receivedAt, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  try {
    const [receivedAt, id] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof receivedAt !== 'string' ||
      typeof id !== 'string' ||
      !isStorableTime(receivedAt) ||
      !UUID.test(id)
    ) {
      throw new Error('bad cursor');
    }
    return { receivedAt: new Date(receivedAt).toISOString(), id };
  } catch {
    throw new BadRequestException('cursor is not one this API returned');
  }
}

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

/** Outcomes of refused requests (rejected-attempts.ts), stored with only what arrived. */
const REJECTED_OUTCOMES = new Set<string>(['rejected_auth', 'rejected_address', 'invalid']);

/**
 * The admin search as one statement (`?` placeholders), newest first, one row more than the page
 * to tell whether there is a next one. Exported so the data benchmark explains exactly this SQL.
 */
export function callbackSearchStatement(query: CallbackSearchQuery): {
  sql: string;
  params: unknown[];
} {
  const where: string[] = [];
  const params: unknown[] = [];
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(`c.${column} = ?`);
    params.push(value);
  };
  equal('provider', query.provider);
  equal('account', query.account);
  equal('status', query.status);
  equal(
    'merchant_reference',
    query.reference === undefined ? undefined : (searchableReference(query.reference) ?? undefined),
  );
  equal('transaction_key', query.providerTransactionId);
  equal('outcome', query.outcome);
  if (query.from !== undefined) {
    where.push('c.received_at >= ?');
    params.push(new Date(query.from).toISOString());
  }
  if (query.to !== undefined) {
    where.push('c.received_at < ?');
    params.push(new Date(query.to).toISOString());
  }
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    where.push('(c.received_at < ? OR (c.received_at = ? AND c.id < ?))');
    params.push(after.receivedAt, after.receivedAt, after.id);
  }
  // Rejected attempts are stored without status or transaction (a reference only where it could
  // be read): asking for one of those together with a rejected outcome matches nothing.
  if (
    query.outcome !== undefined &&
    REJECTED_OUTCOMES.has(query.outcome) &&
    (query.status !== undefined || query.providerTransactionId !== undefined)
  ) {
    where.push('1 = 0');
  }
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  return {
    sql: `SELECT c.id, c.provider, c.account, c.credential_key, c.outcome, c.status, c.merchant_reference, c.transaction_key,
              c.received_at, c.event_id, o.published_at,
              (SELECT COUNT(*) FROM outbox x WHERE x.callback_id = c.id) AS events,
              (SELECT COUNT(*) FROM outbox x WHERE x.callback_id = c.id AND x.published_at IS NULL) AS unpublished
       FROM callbacks c LEFT JOIN outbox o ON o.event_id = c.event_id
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY c.received_at DESC, c.id DESC
       LIMIT ?`,
    params: [...params, limit + 1],
  };
}

@Injectable()
export class AdminService {
  constructor(
    private readonly sql: SqlDialect,
    private readonly relay: OutboxRelay,
    private readonly providers: CallbackProviderRegistry,
    private readonly verification: VerificationService,
  ) {}

  async search(query: CallbackSearchQuery): Promise<CallbackPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const { sql, params } = callbackSearchStatement(query);
    const rows = await this.sql.query<ListRow>(sql, params);
    const page = rows.slice(0, limit);
    const items: CallbackListItem[] = page.map((row) => ({
      id: row.id,
      provider: row.provider,
      account: row.account,
      credentialKey: row.credential_key,
      outcome: row.outcome,
      status: row.status,
      reference: row.merchant_reference,
      transactionKey: row.transaction_key,
      receivedAt: iso(row.received_at),
      eventId: row.event_id,
      publishedAt: isoOrNull(row.published_at),
      events: Number(row.events),
      published: Number(row.events) === 0 ? null : Number(row.unpublished) === 0,
    }));
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor(last.receivedAt, last.id) : null,
    };
  }

  async show(id: string): Promise<CallbackDetail> {
    const row = await this.callback(id);
    const events = await this.sql.query<OutboxRow>(
      `SELECT event_id, callback_id, event_type, routing_key, payload, created_at, published_at, attempts,
              last_error, lease_until
       FROM outbox WHERE callback_id = ? ORDER BY created_at, event_id`,
      [id],
    );
    return {
      id: row.id,
      provider: row.provider,
      account: row.account,
      credentialKey: row.credential_key,
      outcome: row.outcome,
      status: row.status,
      reference: row.merchant_reference,
      transactionKey: row.transaction_key,
      verification: row.verification,
      request: {
        method: row.method,
        path: row.path,
        headers: JSON.parse(row.headers) as Record<string, string>,
        bodyEncoding: row.raw_body_encoding,
        body: row.raw_body,
        sourceIp: row.source_ip,
        receivedAt: iso(row.received_at),
      },
      eventId: row.event_id,
      events: events.map(eventView),
    };
  }

  /**
   * Makes the relay publish the event again, with the same id: its row goes back to unpublished
   * and unleased, and a sweep is started.
   */
  async republish(eventId: string): Promise<RepublishResult> {
    const [row] = await this.sql.query<OutboxRow>(
      `UPDATE outbox SET published_at = NULL, lease_owner = NULL, lease_until = NULL
       WHERE event_id = ?
       RETURNING event_id, callback_id, event_type, routing_key, payload, created_at, published_at, attempts,
                 last_error, lease_until`,
      [eventId],
    );
    if (!row) throw new NotFoundException(`No event ${eventId}`);
    void this.relay.sweep();
    return {
      eventId: row.event_id,
      callbackId: row.callback_id,
      routingKey: row.routing_key,
      publishedAt: isoOrNull(row.published_at),
      attempts: Number(row.attempts),
    };
  }

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
    const callback = await this.callback(id);
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

  /** The state of one transaction and every callback stored for it, in arrival order. */
  async transaction(
    provider: string,
    account: string,
    transactionKey: string,
  ): Promise<TransactionDetail> {
    const [state] = await this.sql.query<TransactionStateRow>(
      `SELECT status, previous_status, version, created_at, updated_at FROM transactions
       WHERE provider = ? AND account = ? AND transaction_key = ?`,
      [provider, account, transactionKey],
    );
    const callbacks = await this.sql.query<
      Pick<
        CallbackRow,
        'id' | 'outcome' | 'status' | 'received_at' | 'event_id' | 'method' | 'verification'
      >
    >(
      `SELECT id, outcome, status, received_at, event_id, method, verification FROM callbacks
       WHERE provider = ? AND account = ? AND transaction_key = ?
       ORDER BY received_at, id`,
      [provider, account, transactionKey],
    );
    if (!state && callbacks.length === 0) {
      throw new NotFoundException(
        `No transaction ${transactionKey} of ${provider} account ${account}`,
      );
    }
    const events = callbacks.length
      ? await this.sql.query<OutboxRow>(
          `SELECT event_id, callback_id, event_type, routing_key, payload, created_at, published_at, attempts,
                  last_error, lease_until
           FROM outbox WHERE callback_id IN (${callbacks.map(() => '?').join(', ')})
           ORDER BY created_at, event_id`,
          callbacks.map((c) => c.id),
        )
      : [];
    const verifications = await this.sql.query<VerificationRow>(
      `SELECT callback_id, state, event, attempts, next_at, last_error, detail, created_at, settled_at
       FROM verifications WHERE provider = ? AND account = ? AND transaction_key = ?
       ORDER BY created_at, callback_id`,
      [provider, account, transactionKey],
    );
    const actions = await this.operatorActions([
      `${provider}/${account}/${transactionKey}`,
      ...callbacks.map((c) => c.id),
      ...events.map((e) => e.event_id),
    ]);
    const views = callbacks.map((c) => ({
      id: c.id,
      kind: c.method === 'INQUIRY' ? ('inquiry' as const) : ('callback' as const),
      verification: c.verification,
      outcome: c.outcome,
      status: c.status,
      receivedAt: iso(c.received_at),
      eventId: c.event_id,
      events: events
        .filter((e) => e.callback_id === c.id)
        .map((e) => {
          const data = (parsePayload(e.payload).data ?? {}) as Record<string, unknown>;
          return {
            eventId: e.event_id,
            routingKey: e.routing_key,
            transactionVersion:
              typeof data.transactionVersion === 'number' ? data.transactionVersion : null,
            previousStatus: typeof data.previousStatus === 'string' ? data.previousStatus : null,
            createdAt: iso(e.created_at),
            publishedAt: isoOrNull(e.published_at),
          };
        }),
    }));
    return {
      provider,
      account,
      transactionKey,
      status: state?.status ?? null,
      previousStatus: state?.previous_status ?? null,
      version: state ? Number(state.version) : 0,
      createdAt: state ? iso(state.created_at) : null,
      updatedAt: state ? iso(state.updated_at) : null,
      callbacks: views,
      inquiries: views.filter((c) => c.kind === 'inquiry'),
      verifications: verifications.map(verificationView),
      operatorActions: actions,
    };
  }

  /** Actions (not reads) of operators on any of the targets, oldest first. */
  private async operatorActions(targets: string[]): Promise<TransactionActionView[]> {
    const rows: AuditRow[] = [];
    // Bounded IN lists: a transaction with many callbacks is asked about in slices.
    for (let i = 0; i < targets.length; i += 200) {
      const slice = targets.slice(i, i + 200);
      rows.push(
        ...(await this.sql.query<AuditRow>(
          `SELECT at, action, target, details FROM admin_audit
           WHERE target IN (${slice.map(() => '?').join(', ')}) ORDER BY at`,
          slice,
        )),
      );
    }
    return rows
      .map(auditView)
      .filter((row): row is TransactionActionView & { method: string } => row.method !== 'GET')
      .map(({ method: _method, ...row }) => row)
      .sort((a, b) => a.at.localeCompare(b.at));
  }

  private async callback(id: string): Promise<CallbackRow> {
    const [row] = await this.sql.query<CallbackRow>(
      `SELECT id, provider, account, credential_key, transaction_key, status, merchant_reference, event_id,
              outcome, source_ip, method, path, headers, raw_body, raw_body_encoding, verification, received_at,
              quarantine
       FROM callbacks WHERE id = ?`,
      [id],
    );
    if (!row) throw new NotFoundException(`No callback ${id}`);
    return row;
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

function parsePayload(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsable: text };
  }
}

interface VerificationRow {
  callback_id: string;
  state: string;
  event: string;
  attempts: number | string;
  next_at: Timestamp | null;
  last_error: string | null;
  detail: string | null;
  created_at: Timestamp;
  settled_at: Timestamp | null;
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

function verificationView(row: VerificationRow): TransactionVerificationView {
  return {
    callbackId: row.callback_id,
    state: row.state,
    claim: claimOf(row.event),
    attempts: Number(row.attempts),
    nextAt: isoOrNull(row.next_at),
    lastError: row.last_error,
    detail: row.detail,
    createdAt: iso(row.created_at),
    settledAt: isoOrNull(row.settled_at),
  };
}

function eventView(row: OutboxRow): OutboxEventView {
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
