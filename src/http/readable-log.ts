/**
 * Log lines for a person at a terminal (development only; production and test keep pino's JSON):
 *
 *   14:02:31.207 INFO  POST /callbacks/nicepay 200 12 ms  provider=nicepay outcome=accepted reqId=…
 *   14:02:33.481 WARN  [OutboxRelay] RabbitMQ unreachable, retrying every 1 s up to 30 s
 *
 * It rewrites the finished JSON line, after pino's serializers and hooks: it shows only what that
 * line holds (minus pid, hostname and service), so it can never print what the JSON would not.
 */

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Shown in the line's head, or the same on every line: not repeated as fields. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'context']);

type Entry = Record<string, unknown>;

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  const ms = String(date.getMilliseconds()).padStart(3, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${ms}`;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The request line's own fields, as `POST /callbacks/nicepay 200 12 ms`; null for other lines. */
function requestSummary(entry: Entry): string | null {
  const req = entry.req as Entry | undefined;
  const res = entry.res as Entry | undefined;
  if (!req || !res || typeof req !== 'object' || typeof res !== 'object') return null;
  const took = typeof entry.responseTime === 'number' ? ` ${entry.responseTime} ms` : '';
  return `${shown(req.method)} ${shown(req.path)} ${shown(res.statusCode)}${took}`;
}

/** One pino JSON line (without its newline) as a readable line; anything else unchanged. */
export function readableLine(json: string): string {
  let entry: Entry;
  try {
    entry = JSON.parse(json) as Entry;
  } catch {
    return json;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return json;
  const level = (LEVELS[entry.level as number] ?? shown(entry.level)).padEnd(5);
  const context = typeof entry.context === 'string' ? `[${entry.context}] ` : '';
  const request = requestSummary(entry);
  const message = request ?? (entry.msg === undefined ? '' : String(entry.msg));
  const skip = request ? new Set([...HEAD_FIELDS, 'req', 'res', 'responseTime']) : HEAD_FIELDS;
  const err = entry.err as Entry | undefined;
  const fields = Object.entries(entry)
    .filter(([name]) => !skip.has(name) && !(name === 'err' && typeof err?.stack === 'string'))
    .map(([name, value]) => `${name}=${shown(value)}`);
  const head = `${clock(entry.time)} ${level} ${context}${message}`;
  const line = fields.length > 0 ? `${head}  ${fields.join(' ')}` : head;
  const stack =
    typeof err?.stack === 'string' ? `\n    ${err.stack.split('\n').join('\n    ')}` : '';
  return line + stack;
}

/** A pino destination that writes each line readable to `destination` (one write per line). */
export function readableLines(destination: { write(chunk: string): unknown }): {
  write(chunk: string): void;
} {
  return {
    write(chunk: string): void {
      const lines = chunk.split('\n').filter((line) => line !== '');
      destination.write(`${lines.map(readableLine).join('\n')}\n`);
    },
  };
}
