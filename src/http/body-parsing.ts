import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import type { IncomingMessage } from 'node:http';
import { errorBody } from './error.filter.js';
import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';

function keepRawBody(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = buffer;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `65536`, `64kb`, `1mb` → bytes (the forms BODY_LIMIT accepts). */
export function limitInBytes(limit: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(limit.trim());
  if (!match) throw new Error(`Not a size: ${limit}`);
  return Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()];
}

/** The tighter of a provider's own limit and the configured BODY_LIMIT. */
export function effectiveLimit(providerLimit: string | undefined, configured: string): string {
  if (!providerLimit) return configured;
  return limitInBytes(providerLimit) < limitInBytes(configured) ? providerLimit : configured;
}

/** JSON and form parsers that keep the exact bytes in `req.rawBody`, both capped at `limit`. */
export function bodyParsers(limit: string) {
  return [
    express.json({
      limit,
      verify: keepRawBody,
      type: ['application/json', 'application/*+json'],
      strict: false,
    }),
    express.urlencoded({ limit, verify: keepRawBody, extended: false, parameterLimit: 1000 }),
  ];
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** Turns body-parser failures into the gateway's JSON error shape instead of Express's HTML page. */
export function bodyParserErrors(limit: string) {
  return (err: BodyParserError, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    let exception: HttpException;
    switch (err.type) {
      case 'entity.too.large':
        exception = new PayloadTooLargeException(`Request body exceeds the ${limit} limit`);
        break;
      case 'entity.parse.failed':
        exception = new BadRequestException(`Request body is not valid JSON: ${err.message}`);
        break;
      case 'encoding.unsupported':
      case 'charset.unsupported':
        exception = new UnsupportedMediaTypeException(err.message);
        break;
      case 'parameters.too.many':
        exception = new PayloadTooLargeException('Too many form parameters');
        break;
      default:
        exception = new BadRequestException(`Request body could not be read: ${err.message}`);
    }
    const requestId = (req as Request & { id?: string }).id;
    res.status(exception.getStatus()).json(errorBody(exception, requestId));
  };
}
