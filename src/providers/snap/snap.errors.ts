import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type ExceptionFilter,
  HttpException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { errorBody, ErrorFilter } from '../../common/error.filter.js';
import { serviceCodeOfPath, snapResponse } from './snap.facts.js';

/** A refusal with SNAP's case digits: 400xx01 invalid format, 400xx02 missing mandatory field. */
export class SnapBadRequest extends BadRequestException {
  constructor(
    message: string,
    readonly caseCode: '01' | '02',
  ) {
    super(message);
  }
}

export const missing = (what: string) =>
  new SnapBadRequest(`SNAP callback is missing ${what}`, '02');
export const invalid = (what: string) => new SnapBadRequest(`SNAP callback ${what}`, '01');

/**
 * SNAP routes answer every refusal in SNAP's shape, `{responseCode, responseMessage}` with the
 * HTTP status, service code and case (`4012500`), plus the gateway's `message` naming the problem
 * and `requestId`. Anything that is not an HttpException goes to the gateway's own filter.
 */
@Catch()
export class SnapErrorFilter implements ExceptionFilter {
  private readonly fallback = new ErrorFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    if (!(exception instanceof HttpException)) return this.fallback.catch(exception, host);
    const req = host.switchToHttp().getRequest<Request & { id?: string }>();
    const res = host.switchToHttp().getResponse<Response>();
    const requestId = req.id !== undefined ? String(req.id) : undefined;
    const body = errorBody(exception, requestId);
    res.locals.outcome ??= 'rejected';
    res.locals.errorMessage = body.message;
    const caseCode = exception instanceof SnapBadRequest ? exception.caseCode : '00';
    const snap = snapResponse(body.statusCode, serviceCodeOfPath(req.path), caseCode);
    if (!res.headersSent)
      res.status(body.statusCode).json({
        ...snap,
        message: body.message,
        ...(body.errors ? { errors: body.errors } : {}),
        requestId,
      });
  }
}
