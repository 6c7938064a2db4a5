import { maskPersonalText } from './personal-data.js';

/**
 * Errors as they may be logged or stored: never a statement's parameter values, never the part
 * of a database message that repeats a value (`invalid input syntax for type uuid: "…"`), never a
 * driver's `detail` (`Key (reference)=(…) already exists`). What is kept says what failed: the
 * error's name, the SQLSTATE (or SQLite) code, the constraint, table and column where the driver
 * names them, and the message with every quoted part replaced by `"…"`.
 */

interface DriverErrorFields {
  code?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
  routine?: unknown;
  driverError?: unknown;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The driver's error behind TypeORM's QueryFailedError, or the error itself. */
function driverErrorOf(error: unknown): (Error & DriverErrorFields) | null {
  if (!(error instanceof Error)) return null;
  const inner = (error as DriverErrorFields).driverError;
  const candidate = (inner instanceof Error ? inner : error) as Error & DriverErrorFields;
  const code = candidate.code;
  if (typeof code !== 'string') return null;
  return SQLSTATE.test(code) || code.startsWith('SQLITE_') ? candidate : null;
}

/** A database error's message with quoted values (and anything after `=` in parentheses) removed. */
function redacted(message: string): string {
  return message
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/=\(.*\)/gs, '=(…)')
    .slice(0, 300);
}

/** True for errors raised by a database driver (pg, better-sqlite3), wrapped or not. */
export function isDatabaseError(error: unknown): boolean {
  return driverErrorOf(error) !== null;
}

/** Fields of an error safe to log (a pino `err` replacement): no values, no parameters. */
export function safeErrorFields(error: unknown): Record<string, unknown> {
  const driver = driverErrorOf(error);
  if (!driver) {
    if (!(error instanceof Error)) return { type: typeof error };
    return {
      type: error.name,
      message: maskPersonalText(error.message.slice(0, 1000)),
      stack: error.stack,
    };
  }
  const fields: Record<string, unknown> = {
    type: (error as Error).name,
    code: driver.code,
    message: redacted(driver.message),
  };
  for (const name of ['constraint', 'table', 'column', 'routine'] as const) {
    if (typeof driver[name] === 'string') fields[name] = driver[name];
  }
  return fields;
}

/** One line for a log message: `QueryFailedError 22P02: invalid input syntax for type uuid: "…"`. */
export function safeErrorText(error: unknown): string {
  const fields = safeErrorFields(error);
  const code = fields.code ? ` ${String(fields.code)}` : '';
  const on = fields.constraint ? ` (constraint ${String(fields.constraint)})` : '';
  const message = fields.message === undefined ? '' : `: ${String(fields.message)}`;
  return `${String(fields.type)}${code}${message}${on}`.slice(0, 500);
}

/** SQLSTATE class 22 (data exception: a value the database cannot store or compare). */
export function isDataException(error: unknown): boolean {
  const code = driverErrorOf(error)?.code;
  return typeof code === 'string' && code.startsWith('22');
}
