import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import type { IncomingMessage } from 'node:http';
import qs from 'qs';
import { errorBody } from '../common/error.filter.js';
import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';

function keepRawBody(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = buffer;
}

/**
 * Deepest nesting a JSON body may have. Provider callbacks nest three levels at most; a deep one
 * would only cost stack in the parser, the validator and every consumer of the event.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * The nesting depth of JSON text, counted on the bytes (a multi-byte UTF-8 character never
 * contains an ASCII byte), brackets inside strings ignored. Stops counting once over `limit`.
 */
export function jsonDepthExceeds(text: Buffer | string, limit = MAX_JSON_DEPTH): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === 0x5c)
        i += 1; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (byte === 0x7d || byte === 0x5d) depth -= 1;
  }
  return false;
}

class TooDeepError extends Error {
  readonly type = 'entity.too.deep';
}

/** JSON bodies: kept raw, and refused (400) before parsing when nested deeper than MAX_JSON_DEPTH. */
function keepRawJsonBody(req: IncomingMessage, res: unknown, buffer: Buffer): void {
  keepRawBody(req, res, buffer);
  if (jsonDepthExceeds(buffer)) {
    throw new TooDeepError(`JSON nesting deeper than ${MAX_JSON_DEPTH} levels`);
  }
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
      verify: keepRawJsonBody,
      type: ['application/json', 'application/*+json'],
      strict: false,
    }),
    express.urlencoded({ limit, verify: keepRawBody, extended: false, parameterLimit: 1000 }),
  ];
}

const FORM_TYPE = 'application/x-www-form-urlencoded';
const FORM_PARAMETER_LIMIT = 1000;
const FORM_CONTENT_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

type FormCharset = 'utf-8' | 'iso-8859-1';

/** Form decoding as body-parser's flat (`extended: false`) parser does it: `+` is a space. */
function decodeFormComponent(text: string, charset: FormCharset): string {
  // Most components of a provider's form are plain: nothing to decode.
  if (!text.includes('%') && !text.includes('+')) return text;
  const spaced = text.replace(/\+/g, ' ');
  if (charset === 'iso-8859-1')
    return spaced.replace(/%[0-9a-f]{2}/gi, (hex) =>
      String.fromCharCode(parseInt(hex.slice(1), 16)),
    );
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * A flat `application/x-www-form-urlencoded` body → fields, exactly as body-parser's
 * `extended: false` parser (qs, depth 0) gives them: a repeated key becomes an array, an empty key
 * and `__proto__` are dropped, an undecodable component is kept as sent. Provider forms have plain
 * keys: those are split here without a qs parse per request; a body with brackets (`a[]`, `[0]`,
 * which qs treats specially even flat) goes to qs itself.
 */
export function parseFlatForm(
  text: string,
  charset: FormCharset = 'utf-8',
): Record<string, unknown> {
  const clean = text.includes('%5') ? text.replace(/%5B/gi, '[').replace(/%5D/gi, ']') : text;
  if (clean.includes('[') || clean.includes(']')) {
    return qs.parse(text, {
      allowPrototypes: true,
      arrayLimit: text.split('&').length,
      depth: 0,
      charset,
      parameterLimit: FORM_PARAMETER_LIMIT,
      strictDepth: true,
    });
  }
  // Own data properties on a plain object, like qs (`__proto__` is never assigned: dropped above).
  // Written directly, not through a Map and Object.fromEntries: one object per form (issue 28).
  const fields: Record<string, string | string[]> = {};
  for (const part of clean.split('&')) {
    if (part.length === 0) continue;
    const equals = part.indexOf('=');
    const key = decodeFormComponent(equals === -1 ? part : part.slice(0, equals), charset);
    if (key.length === 0 || key === '__proto__') continue;
    const value = equals === -1 ? '' : decodeFormComponent(part.slice(equals + 1), charset);
    if (!Object.hasOwn(fields, key)) fields[key] = value;
    else {
      const existing = fields[key];
      if (Array.isArray(existing)) existing.push(value);
      else fields[key] = [existing, value];
    }
  }
  return fields;
}

function bodyError(message: string, type: string, status: number): Error {
  return Object.assign(new Error(message), { type, status });
}

/**
 * Flat form bodies: read (limit, content encodings, read errors) by body-parser's raw reader, kept
 * in `req.rawBody`, decoded by parseFlatForm. UTF-8 (the default) and ISO-8859-1 forms, as
 * body-parser accepts them.
 */
export function flatFormParser(limit: string): RequestHandler {
  const read = express.raw({ limit, type: FORM_TYPE, verify: keepRawBody });
  return (req, res, next) => {
    read(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (!Buffer.isBuffer(req.body)) return next();
      const charset = (
        /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1] ?? 'utf-8'
      ).toLowerCase();
      if (charset !== 'utf-8' && charset !== 'iso-8859-1') {
        return next(
          bodyError(`unsupported charset "${charset.toUpperCase()}"`, 'charset.unsupported', 415),
        );
      }
      const text = req.body.toString(charset === 'utf-8' ? 'utf8' : 'latin1');
      let parameters = 1;
      for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) parameters += 1;
      if (parameters > FORM_PARAMETER_LIMIT) {
        return next(bodyError('too many parameters', 'parameters.too.many', 413));
      }
      req.body = parseFlatForm(text, charset);
      next();
    });
  };
}

/**
 * All body parsing as ONE middleware, instead of a parser stack per path prefix that every
 * request walks layer by layer: `/callbacks/<provider>` is read up to that provider's limit, any
 * other `/callbacks` path up to `callbackLimit`, everything else up to `otherLimit`; JSON and
 * flat forms everywhere (a provider refuses the wrong one itself, 415). Failures answer in the
 * gateway's error shape.
 */
export function bodyParsing(
  limits: ReadonlyMap<string, string>,
  callbackLimit: string,
  otherLimit: string,
): RequestHandler {
  const parsersUpTo = (limit: string): RequestHandler => {
    const [json] = bodyParsers(limit);
    const parsers = [json, flatFormParser(limit)];
    const errors = bodyParserErrors(limit);
    return (req, res, next) => {
      // A form is never JSON: its body goes straight to the form parser, without the JSON
      // parser's content-type check first (what that parser would decide anyway).
      let index = FORM_CONTENT_TYPE.test(req.headers['content-type'] ?? '') ? 1 : 0;
      const step = (error?: unknown): void => {
        if (error) return errors(error as BodyParserError, req, res, next);
        const parser = parsers[index];
        index += 1;
        if (parser) parser(req, res, step);
        else next();
      };
      step();
    };
  };
  const byName = new Map([...limits].map(([name, limit]) => [name, parsersUpTo(limit)]));
  const callbacks = parsersUpTo(callbackLimit);
  const other = parsersUpTo(otherLimit);
  return (req, res, next) => {
    const path = req.url.split('?', 1)[0];
    // Matched like the Express mount paths it replaces: case-insensitive, whole segments.
    const match = /^\/callbacks(?:\/([^/]*))?(?:\/|$)/i.exec(path);
    if (!match) return other(req, res, next);
    const route = match[1] === undefined ? undefined : byName.get(match[1].toLowerCase());
    return (route ?? callbacks)(req, res, next);
  };
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
      case 'entity.too.deep':
        exception = new BadRequestException(
          `Request body is refused: JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
        );
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
