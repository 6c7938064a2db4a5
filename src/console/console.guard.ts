import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { AdminRequest } from '../operators/admin-key.guard.js';
import {
  csrfMatches,
  fromOwnOrigin,
  readSession,
  type Session,
} from '../operators/console-session.js';
import { mayAct } from '../operators/operator.js';
import { OperatorDirectory } from '../operators/operator-directory.js';

export interface ConsoleRequest extends AdminRequest {
  consoleSession?: Session | null;
}

/**
 * Console pages: the operator from the trusted proxy's identity header or a session cookie (no
 * keys in a browser's requests). A POST is an action: it needs the role operator, must come from
 * the console's own pages (Origin / Sec-Fetch-Site) and, with a session, carry its form token.
 */
@Injectable()
export class ConsoleGuard implements CanActivate {
  constructor(private readonly operators: OperatorDirectory) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<ConsoleRequest>();
    const session = readSession(req, this.operators);
    const operator = this.operators.byProxy(req) ?? session?.operator ?? null;
    if (!operator) throw new UnauthorizedException('Sign in to use the console');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (!mayAct(operator))
        throw new ForbiddenException(
          `Operator ${operator.name} has the role viewer: reading only, every action is refused`,
        );
      const token = (req.body as { _csrf?: unknown } | undefined)?._csrf;
      if (!fromOwnOrigin(req) || (operator.via === 'session' && !csrfMatches(session!, token)))
        throw new ForbiddenException('This form did not come from the console: reload the page');
    }
    req.operator = operator;
    req.adminKeyFingerprint = operator.via;
    req.consoleSession = session;
    return true;
  }
}
