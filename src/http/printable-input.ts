import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { isPrintableText, storableText } from '../common/printable.js';
import { errorBody } from '../common/error.filter.js';

/** Free text in a body (a reason) may break lines; nothing else a client sends holds a control. */
const LINE_BREAKS_AND_TABS = /[\t\n\r]/g;

/** Deepest nesting of query or body values walked (bodies are refused deeper than 32 anyway). */
const MAX_DEPTH = 40;

/** The name of an input as shown in a refusal: printable, short, never its value. */
const shown = (name: string) => storableText(name).slice(0, 64);

/**
 * The first input holding a control character (C0, DEL, C1, a lone surrogate, U+2028/9), as
 * `<where> <name>`; null when there is none. Keys count as well as values.
 */
function firstUnprintable(
  value: unknown,
  where: string,
  name: string,
  allowLineBreaks: boolean,
  depth = 0,
): string | null {
  if (typeof value === 'string') {
    const text = allowLineBreaks ? value.replace(LINE_BREAKS_AND_TABS, ' ') : value;
    return isPrintableText(text) ? null : `${where} ${shown(name || '(the whole value)')}`;
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return null;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const path = name === '' ? key : Array.isArray(value) ? `${name}[${key}]` : `${name}.${key}`;
    if (!isPrintableText(key)) return `${where} ${shown(path)}`;
    const found = firstUnprintable(inner, where, path, allowLineBreaks, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Each decoded path segment; an undecodable one is left to routing (Express answers 400). */
function pathSegments(path: string): string[] {
  return path.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return '';
    }
  });
}

/**
 * Express middleware for every route except provider callbacks (whose ids are refused by their
 * DTOs and whose authentic callbacks are quarantined, never refused here): a control character
 * in a path segment (every route parameter), a query parameter or a JSON body field (name or
 * value; tabs and line breaks allowed in body text) is answered 400 naming the input, before any
 * handler or database sees it. PostgreSQL text cannot hold NUL; no such value is an id, a code,
 * a search term or a reason an operator means.
 */
export function refuseUnprintableInput() {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (/^\/callbacks(\/|$)/i.test(req.path)) return next();
    const segment = pathSegments(req.path).findIndex((part) => !isPrintableText(part));
    const problem =
      segment >= 0
        ? `path segment ${segment}`
        : (firstUnprintable(req.query, 'query parameter', '', false) ??
          firstUnprintable(req.body, 'body field', '', true));
    if (problem === null) return next();
    const id = (req as Request & { id?: unknown }).id;
    const body = errorBody(
      new BadRequestException(`${problem} must not contain control characters`),
      id === undefined ? undefined : String(id),
    );
    res.locals.outcome = 'rejected';
    res.status(400).json(body);
  };
}
