import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino, { type Level, type LogFn, type Logger } from 'pino';
import { maskPersonalText } from '../common/personal-data.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { GatewayRequest } from '../ingest/gateway-request.js';
import { readableLines } from './readable-log.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The request being handled, for the `reqId` of every log line written while handling it. */
const requestContext = new AsyncLocalStorage<{ id: string }>();

/**
 * The request id: the caller's `X-Request-Id` when it is sane, else a new UUID; echoed in the
 * response header, the log line and every error body. Set before anything else runs, so even a
 * request refused while routing or reading its body has one.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * Runs the rest of the request inside its logging context, so every line logged while handling it
 * carries its `reqId` (pino `mixin`, evaluated only for lines actually written). Mounted after the
 * body parsers: a stream's 'end' callback does not run in the context of the middleware that
 * started reading it.
 */
export function requestScope(req: IncomingMessage, _res: ServerResponse, next: () => void): void {
  const id = (req as IncomingMessage & { id?: string }).id;
  if (id === undefined) return next();
  requestContext.run({ id }, next);
}

/** Top-level paths the gateway serves; any other first segment is not shown in a log line. */
const KNOWN_ROOTS = new Set([
  'callbacks',
  'admin',
  'docs',
  'docs-json',
  'health',
  'metrics',
  'dev',
]);

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A path that matched no route, made safe to show: URL tokens ride in callback paths, and a path
 * that routed nowhere may be any variant of one (`/CALLBACKS/ppob/<token>/`, `//…`, `%2F`, extra
 * segments). Only what the gateway itself defines survives — a known first segment (compared
 * decoded and case-insensitively) and, under /callbacks, a known provider name; every further
 * segment becomes `:token` (callbacks) or `:param`. Never the query string.
 */
export function redactedPath(url: string, providers: ReadonlySet<string>): string {
  const path = url.split('?')[0].split('#')[0];
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) return '/';
  const root = decodeSegment(segments[0]).toLowerCase();
  if (!KNOWN_ROOTS.has(root)) return '/:unknown';
  // Anything that decodes to "callbacks" anywhere puts the whole path under the callback rule.
  const callbacks =
    root === 'callbacks' || segments.some((s) => /callback/i.test(decodeSegment(s)));
  let shown = `/${root}`;
  let rest = segments.slice(1);
  if (callbacks && root === 'callbacks' && rest.length > 0) {
    const provider = decodeSegment(rest[0]).toLowerCase();
    shown += providers.has(provider) ? `/${provider}` : '/:provider';
    rest = rest.slice(1);
  }
  if (rest.length > 0) shown += callbacks ? '/:token' : '/:param';
  return shown;
}

/**
 * The path a log line may show: the callback's route template (no URL tokens), else the matched
 * route's template, else the redacted form of the raw path; never the query string.
 */
export function loggablePath(req: IncomingMessage, providers: ReadonlySet<string>): string {
  const callback = (req as GatewayRequest).callback;
  if (callback) return callback.inbound.path;
  // A wildcard (nestjs-pino's middleware route `{/*splat}`) says nothing: treated as unmatched.
  const route = (req as GatewayRequest).route as { path?: unknown } | undefined;
  if (typeof route?.path === 'string' && !route.path.includes('*')) return route.path;
  return redactedPath((req as GatewayRequest).originalUrl ?? req.url ?? '', providers);
}

function levelFor(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/**
 * One JSON line per request, written when the response is finished (route, callback and outcome
 * are known then, so the path is always the redacted one): request id, method, path, status,
 * provider, outcome, client address, latency. Nothing is built before the line's level is known
 * to be enabled, so `LOG_LEVEL=warn` costs a successful request one 'finish' listener. Bodies,
 * query strings, URL tokens and signature headers are never logged.
 */
export function requestLogging(logger: Logger, providers: ReadonlySet<string>) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    // Nothing a request can log is at fatal level: no listener at all.
    if (!logger.isLevelEnabled('error') || (req.url ?? '').startsWith('/health')) return next();
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const level = levelFor(res.statusCode);
      if (!logger.isLevelEnabled(level)) return;
      const id = (req as IncomingMessage & { id?: string }).id;
      const callback = (req as GatewayRequest).callback;
      const outcome = (res as ServerResponse & { locals?: { outcome?: string } }).locals?.outcome;
      logger[level](
        {
          reqId: id,
          req: { id, method: req.method, path: loggablePath(req, providers) },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
          ...(callback
            ? { provider: callback.provider, outcome, clientIp: callback.inbound.clientIp }
            : {}),
        },
        'request completed',
      );
    });
    next();
  };
}

/**
 * pino `logMethod` hook: every string argument of a log call (the message, with any provider text
 * it quotes: a top-up answer, a refusal reason) has its e-mail addresses, phone numbers and card
 * numbers masked before it is written. Runs only for lines whose level is enabled.
 */
export function maskPersonalDataInLogs(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  for (let i = 0; i < args.length; i += 1) {
    if (typeof args[i] === 'string') (args as unknown[])[i] = maskPersonalText(args[i] as string);
  }
  method.apply(this, args);
}

/** What the mixin returns when it adds nothing: never written to (see mixinMergeStrategy). */
const NOTHING_TO_ADD = Object.freeze({});

/** The gateway's pino logger, one per process (shared by every app a test builds). */
let root: Logger | undefined;
export function rootLogger(config: GatewayConfig): Logger {
  root ??= pino(
    {
      level: config.logLevel,
      base: { service: config.serviceName },
      hooks: { logMethod: maskPersonalDataInLogs },
      // The request id of the request being handled, on every line it causes.
      mixin: (line: object) => {
        const context = requestContext.getStore();
        return context && !('reqId' in line) ? { reqId: context.id } : NOTHING_TO_ADD;
      },
      // pino's default copies every line into the mixin's object; with nothing to add (the
      // request line carries its reqId) the line is written as it is, one object fewer.
      mixinMergeStrategy: (line: object, mixin: object) =>
        mixin === NOTHING_TO_ADD ? line : Object.assign(mixin, line),
    },
    // Development (`npm start`): readable lines; production and test: one JSON object a line.
    config.environment === 'development' ? readableLines(logDestination()) : logDestination(),
  );
  return root;
}

/**
 * nestjs-pino over the gateway's own root logger, without pino-http's per-request child loggers
 * (`useExisting`): the request line is requestLogging's, the request id comes from the mixin.
 * No routes for its middleware either (`forRoutes: []`): with `useExisting` all it would do is
 * run every request in a context of its own whose logger is unset, so every line goes to the
 * root logger anyway — an AsyncLocalStorage scope, an object and a layer per request for
 * nothing (nothing here uses PinoLogger.assign, the one call that needs it).
 */
export function loggerParams(config: GatewayConfig): Params {
  return { pinoHttp: { logger: rootLogger(config) }, useExisting: true, forRoutes: [] };
}

/** Bytes of log lines gathered before one write(2) (and at least every second). */
const LOG_WRITE_BYTES = 16 * 1024;

/**
 * stdout, buffered: one write per 16 KiB of log lines (and at least every second) instead of a
 * write(2) per line, the largest single cost of a callback after the network itself. Flushed on
 * exit, so a clean shutdown loses nothing; a kill -9 may lose the last second of log lines (never
 * a callback: those are in the database). One destination per process, shared by every app.
 *
 * The lines are gathered here and handed to sonic-boom as one string per 16 KiB (each write goes
 * through libuv's thread pool: 4 KiB writes still cost 5 µs a callback): sonic-boom's own
 * buffering appends each line to its pending string and measures that string's byte length on
 * the next line, which flattens it every time — 7 KB allocated and copied per line at 4 KiB
 * (issue 28). Here each line is measured once and the batch joined once.
 */
let destination: LineBatcher | undefined;
function logDestination(): LineBatcher {
  if (!destination) {
    const stream = pino.destination({ dest: 1, sync: false });
    const batcher = new LineBatcher(stream, LOG_WRITE_BYTES);
    setInterval(() => batcher.flush(), 1000).unref();
    process.once('exit', () => batcher.flushSync());
    destination = batcher;
  }
  return destination;
}

/** Lines gathered until `bytes`, then written to `stream` as one string. */
export class LineBatcher {
  private lines: string[] = [];
  private pending = 0;

  constructor(
    private readonly stream: {
      write(chunk: string): unknown;
      flush?(callback: (error?: Error | null) => void): void;
      flushSync?(): void;
    },
    private readonly bytes: number,
  ) {}

  write(line: string): void {
    this.lines.push(line);
    this.pending += Buffer.byteLength(line);
    if (this.pending >= this.bytes) this.flush();
  }

  /**
   * Hands what is gathered to the stream (written asynchronously); with a callback (pino's
   * `logger.flush(cb)`), calls it once the stream has written everything.
   */
  flush(callback?: (error?: Error | null) => void): void {
    if (this.lines.length > 0) {
      const chunk = this.lines.length === 1 ? this.lines[0] : this.lines.join('');
      this.lines = [];
      this.pending = 0;
      this.stream.write(chunk);
    }
    if (!callback) return;
    if (this.stream.flush) this.stream.flush(callback);
    else callback();
  }

  /** Writes everything gathered and everything the stream still holds, before returning. */
  flushSync(): void {
    this.flush();
    this.stream.flushSync?.();
  }
}
