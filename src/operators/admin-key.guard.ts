import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { fromOwnOrigin, readSession } from './console-session.js';
import { mayAct, type Operator } from './operator.js';
import { OperatorDirectory } from './operator-directory.js';

/** The admin request as the guard leaves it. */
export interface AdminRequest extends Request {
  /**
   * First 8 hex digits of SHA-256(key) when a key was presented; `proxy` or `session` when the
   * operator came through the trusted proxy's header or a console session.
   */
  adminKeyFingerprint?: string;
  /** Who is acting: the audit log and operator-published events carry the name. */
  operator?: Operator;
}

export function keyFingerprint(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 8);
}

/** The key from `X-Admin-Key`, or else from `Authorization: Bearer <key>`. */
export function presentedKey(req: Request): string | undefined {
  const header = req.headers['x-admin-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = req.headers.authorization;
  const match =
    typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match?.[1];
}

const READS = new Set(['GET', 'HEAD']);

/**
 * Recognises the operator of an admin request — a key (ADMIN_API_KEY as `admin`, or a named
 * operator's key from OPERATORS_FILE, compared in constant time), else the trusted proxy's
 * identity header, else a console session cookie — or answers 401. Every action (anything but
 * GET) needs the role `operator`: a viewer gets 403, whatever page it came from.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly logger = new Logger(AdminKeyGuard.name);

  constructor(private readonly operators: OperatorDirectory) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const route = (req.route as { path?: string } | undefined)?.path ?? '/admin';
    const key = presentedKey(req);
    const session = key === undefined ? readSession(req, this.operators) : null;
    const operator =
      key !== undefined
        ? this.operators.byKey(key)
        : (this.operators.byProxy(req) ?? session?.operator ?? null);
    if (!operator) {
      this.logger.warn(
        `Admin request refused (${key === undefined ? 'no key' : `wrong key ${keyFingerprint(key)}`}): ${req.method} ${route}`,
      );
      throw new UnauthorizedException(
        'A valid admin key is required (X-Admin-Key or Authorization: Bearer), or a console session',
      );
    }
    if (!READS.has(req.method)) {
      if (!mayAct(operator)) {
        this.logger.warn(`Action refused to viewer ${operator.name}: ${req.method} ${route}`);
        throw new ForbiddenException(
          `Operator ${operator.name} has the role viewer: reading only, every action is refused`,
        );
      }
      if (operator.via === 'session' && !fromOwnOrigin(req))
        throw new ForbiddenException('An action with a console session must come from its pages');
    }
    req.operator = operator;
    req.adminKeyFingerprint = key !== undefined ? keyFingerprint(key) : operator.via;
    return true;
  }
}
