import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { constantTimeEqual } from '../common/constant-time.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';

/** The admin request as the guard leaves it. */
export interface AdminRequest extends Request {
  /** First 8 hex digits of SHA-256(key), set once the key matched. */
  adminKeyFingerprint?: string;
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

/** 401 unless the request carries ADMIN_API_KEY, compared in constant time. */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  private readonly logger = new Logger(AdminKeyGuard.name);

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const expected = this.config.admin?.apiKey;
    const key = presentedKey(req);
    if (!expected || key === undefined || !constantTimeEqual(key, expected)) {
      this.logger.warn(
        `Admin request refused (${key === undefined ? 'no key' : `wrong key ${keyFingerprint(key)}`}): ${req.method} ${(req.route as { path?: string } | undefined)?.path ?? '/admin'}`,
      );
      throw new UnauthorizedException(
        'A valid admin key is required (X-Admin-Key or Authorization: Bearer)',
      );
    }
    req.adminKeyFingerprint = keyFingerprint(key);
    return true;
  }
}
