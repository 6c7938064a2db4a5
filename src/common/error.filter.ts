import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Request, Response } from 'express';
import { isDataException, safeErrorFields } from './safe-error.js';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  errors?: string[];
  requestId?: string;
}

/**
 * One error shape for every route: `{ statusCode, error, message, errors?, requestId }`.
 * Anything that is not an HttpException is a plain 500 with the request id to look it up by.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request & { id?: string }>();
    const res = host.switchToHttp().getResponse<Response>();
    const requestId = req.id !== undefined ? String(req.id) : undefined;
    res.locals.outcome ??= 'rejected';
    const body = errorBody(exception, requestId);
    // Kept for the rejected-attempt record (callback-traffic.ts).
    res.locals.errorMessage = body.message;
    if (!(exception instanceof HttpException)) {
      // Never the error object itself: a database error carries the statement's parameter
      // values (and its message may repeat one).
      const error = safeErrorFields(exception);
      if (body.statusCode >= 500) this.logger.error({ error, requestId }, 'Unhandled error');
      else this.logger.warn({ error, requestId }, 'Request refused by the database');
    }
    if (!res.headersSent) res.status(body.statusCode).json(body);
  }
}

export function errorBody(exception: unknown, requestId?: string): ErrorBody {
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const response = exception.getResponse();
    const error = STATUS_CODES[statusCode] ?? 'Error';
    if (typeof response === 'string') return { statusCode, error, message: response, requestId };
    const { message, errors } = response as { message?: unknown; errors?: unknown };
    return {
      statusCode,
      error,
      message: Array.isArray(message) ? message.join('; ') : String(message ?? error),
      ...(Array.isArray(errors) ? { errors: errors.map(String) } : {}),
      requestId,
    };
  }
  if (isDataException(exception)) {
    // A value the database cannot store or compare (NUL in text, an out-of-range number, a
    // malformed UUID) that validation let through: the request's fault, not a server error.
    return {
      statusCode: HttpStatus.BAD_REQUEST,
      error: 'Bad Request',
      message: 'A value in the request cannot be stored or compared by the database',
      requestId,
    };
  }
  return {
    statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
    error: 'Internal Server Error',
    message: requestId ? `Unexpected error; reference ${requestId}` : 'Unexpected error',
    requestId,
  };
}
