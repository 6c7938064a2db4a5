import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  Logger,
  type NestInterceptor,
  ServiceUnavailableException,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { from, type Observable, switchMap, tap } from 'rxjs';
import { storableText } from '../common/printable.js';
import { safeErrorText } from '../common/safe-error.js';
import { SqlDialect } from '../persistence/sql-dialect.js';
import type { AdminRequest } from './admin-key.guard.js';

const ADMIN_ACTION = 'gateway:admin-action';

const ADMIN_SUBJECT = 'gateway:admin-subject';

/** Names the audited action of an admin route, e.g. `events.republish`. */
export const AdminAction = (action: string) => SetMetadata(ADMIN_ACTION, action);

/** What an action works on, read from its body, for routes whose target is not in the path. */
export type AuditSubject = (body: Record<string, unknown>) => {
  target: string | null;
  details: Record<string, unknown>;
};

/** Declares how to read an action's target and the facts worth keeping from its body. */
export const AdminSubject = (subject: AuditSubject) => SetMetadata(ADMIN_SUBJECT, subject);

/** A short, bounded summary of a handler's result for the audit row. */
function summarize(result: unknown): unknown {
  if (result === null || typeof result !== 'object') return result;
  const value = result as Record<string, unknown>;
  if (Array.isArray(value.items))
    return { items: value.items.length, nextCursor: value.nextCursor ?? null };
  // A top-up order: its state, never the customer's number.
  if (typeof value.placement === 'string') {
    return { id: value.id, reference: value.reference, placement: value.placement };
  }
  if (Array.isArray(value.events)) {
    return {
      callbackId: value.id,
      events: (value.events as Array<{ eventId: string }>).map((e) => e.eventId),
    };
  }
  return value;
}

/**
 * Writes one `admin_audit` row for every admin request (reads included), before the handler runs:
 * when the row cannot be written the request is refused with 503 and nothing is done. When the
 * response is finished the row's details get the status and a short result (best effort).
 */
@Injectable()
export class AdminAuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger(AdminAuditInterceptor.name);

  constructor(
    private readonly sql: SqlDialect,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const action =
      this.reflector.get<string | undefined>(ADMIN_ACTION, context.getHandler()) ??
      `${req.method} ${req.route?.path ?? req.path}`;
    const params = (req.params ?? {}) as Record<string, string>;
    const subject = this.reflector.get<AuditSubject | undefined>(
      ADMIN_SUBJECT,
      context.getHandler(),
    );
    const body = req.body as unknown;
    const described =
      subject && body !== null && typeof body === 'object' && !Array.isArray(body)
        ? subject(body as Record<string, unknown>)
        : null;
    const target =
      described?.target ??
      params.id ??
      params.eventId ??
      (params.transaction
        ? // Control characters (NUL) cannot be stored in PostgreSQL text; the request is refused anyway.
          `${params.provider}/${params.account}/${params.transaction}`.replace(/\p{Cc}/gu, '?')
        : null);
    const id = randomUUID();
    const details: Record<string, unknown> = {
      method: req.method,
      path: req.path,
      query: req.query ?? {},
      // Who: the operator's name (`admin` for the shared ADMIN_API_KEY) and how they signed in.
      operator: req.operator?.name ?? null,
      via: req.operator?.via ?? null,
    };
    if (described) details.subject = described.details;
    // Why an operator acted (publish without verification, …) is part of the record.
    const reason = (req.body as { reason?: unknown } | undefined)?.reason;
    if (typeof reason === 'string') details.reason = storableText(reason).slice(0, 1000);
    let result: unknown;
    let error: string | undefined;
    res.on('finish', () => {
      const final = {
        ...details,
        status: res.statusCode,
        ...(error ? { error } : { result: summarize(result) }),
      };
      this.sql
        .query(`UPDATE admin_audit SET details = ? WHERE id = ?`, [
          JSON.stringify(final).slice(0, 20_000),
          id,
        ])
        .catch((err: Error) =>
          this.logger.warn(`Could not complete audit row ${id}: ${safeErrorText(err)}`),
        );
    });

    const write = this.sql
      .query(
        `INSERT INTO admin_audit (id, at, action, target, key_fingerprint, request_id, details)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          new Date().toISOString(),
          action,
          target === null ? null : storableText(target).slice(0, 255),
          req.adminKeyFingerprint ?? 'none',
          req.id !== undefined ? String(req.id).slice(0, 128) : null,
          JSON.stringify(details),
        ],
      )
      .catch((err: Error) => {
        this.logger.error(
          `Admin audit row could not be written, request refused: ${safeErrorText(err)}`,
        );
        throw new ServiceUnavailableException(
          'The admin audit trail is unavailable; nothing was done',
        );
      });

    return from(write).pipe(
      switchMap(() => next.handle()),
      tap({
        next: (value) => (result = value),
        error: (err: unknown) => (error = safeErrorText(err)),
      }),
    );
  }
}
