import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino from 'pino';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { GatewayRequest } from '../ingest/gateway-request.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

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

/** The path a log line may show: the route template (no URL tokens) and never the query string. */
export function loggablePath(req: IncomingMessage): string {
  const callback = (req as GatewayRequest).callback;
  if (callback) return callback.inbound.path;
  return (req.url ?? '')
    .split('?')[0]
    .replace(/\/callbacks\/([^/]+)\/[^/]+$/, '/callbacks/$1/:token');
}

/**
 * pino through nestjs-pino: one JSON line per request with request id, provider, outcome and
 * latency. Bodies, query strings, URL tokens and signature headers are never logged.
 */
export function loggerParams(config: GatewayConfig): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        base: { service: config.serviceName },
        genReqId: (req: IncomingMessage, res: ServerResponse) => {
          const given = req.headers['x-request-id'];
          const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
          res.setHeader('X-Request-Id', id);
          return id;
        },
        customProps: (req: IncomingMessage, res: ServerResponse) => {
          const callback = (req as GatewayRequest).callback;
          const outcome = (res as ServerResponse & { locals?: { outcome?: string } }).locals
            ?.outcome;
          return callback
            ? { provider: callback.provider, outcome, clientIp: callback.inbound.clientIp }
            : {};
        },
        serializers: {
          req: (req: IncomingMessage & { id?: string; raw?: IncomingMessage }) => ({
            id: req.id,
            method: req.method,
            path: loggablePath(req.raw ?? req),
          }),
          res: (res: ServerResponse & { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
          error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
        // The serializers above already pick a few fields; pino's wrapping would copy more.
        wrapSerializers: false,
      },
      logDestination(),
    ],
  };
}

/**
 * stdout, buffered: one write per 4 KiB of log lines (and at least every second) instead of a
 * write(2) per line, the largest single cost of a callback after the network itself. Flushed on
 * exit, so a clean shutdown loses nothing; a kill -9 may lose the last second of log lines (never
 * a callback: those are in the database). One destination per process, shared by every app.
 */
let destination: ReturnType<typeof pino.destination> | undefined;
function logDestination() {
  if (!destination) {
    const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    setInterval(() => stream.flush(), 1000).unref();
    process.once('exit', () => stream.flushSync());
    destination = stream;
  }
  return destination;
}
