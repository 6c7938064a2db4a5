import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { safeErrorText } from '../common/safe-error.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { ConsoleRequest } from './console.guard.js';

/** Console errors as pages: 401 leads to the sign-in, anything else says what went wrong. */
@Catch()
export class ConsoleErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Console');

  catch(error: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request & ConsoleRequest>();
    const res = host.switchToHttp().getResponse<Response>();
    const status = error instanceof HttpException ? error.getStatus() : 500;
    if (status === 401 && req.method === 'GET') {
      res.redirect(303, `/console/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    if (status >= 500) this.logger.error(`Console page failed: ${safeErrorText(error)}`);
    const response = error instanceof HttpException ? error.getResponse() : null;
    const message =
      status >= 500
        ? 'The page could not be built; the request id is in the log.'
        : typeof response === 'object' && response !== null && 'message' in response
          ? ([] as unknown[]).concat((response as { message: unknown }).message).join('; ')
          : String((error as Error).message);
    res
      .status(status)
      .type('html')
      .send(
        page(
          req,
          `Error ${status}`,
          '',
          html`<p class="notice error">${message}</p>
            <p><a href="/console">Back to the overview</a></p>`,
        ).text,
      );
  }
}
