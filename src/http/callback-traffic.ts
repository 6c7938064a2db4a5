import type { NextFunction, Request, Response } from 'express';
import { errorBody } from './error.filter.js';
import { HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import type { GatewayRequest } from '../ingest/gateway-request.js';
import { plainAddress } from '../ingest/gateway-request.js';
import { type GatewayMetrics, outcomeForStatus } from '../observability/gateway-metrics.js';
import { type RejectedAttemptSink, rejectedOutcomeFor } from '../retention/rejected-attempts.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';

const NOT_A_CALLBACK_URL =
  'No callback endpoint at this path: callback URLs are exactly /callbacks/<provider> or /callbacks/<provider>/<token>';

/**
 * `/callbacks/<provider>` or `/callbacks/<provider>/<one segment>`, the provider spelled as
 * registered (lower case, not percent-encoded), no empty segment, no trailing slash.
 */
export function isCanonicalCallbackPath(url: string, providers: ReadonlySet<string>): boolean {
  const match = /^\/callbacks\/([a-z0-9]+)(?:\/[^/]+)?$/.exec(url.split('?')[0]);
  return match !== null && providers.has(match[1]);
}

/**
 * Runs first for every /callbacks request: refuses an address that failed authentication too
 * often (before its body is even read), and when the response is finished counts the outcome,
 * observes the ack latency and feeds authentication failures to the limiter. A request refused
 * (400/401/403/413/415) after its provider's guard identified the provider is handed to the
 * rejected-attempt recorder, which only queues it: nothing is written before the answer.
 */
export function callbackTraffic(
  metrics: GatewayMetrics,
  limiter: AuthFailureLimiter,
  rejectedAttempts: RejectedAttemptSink,
  providers: ReadonlySet<string>,
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const address = plainAddress(req.ip ?? req.socket.remoteAddress);
    const requestId = (req as Request & { id?: string }).id;
    res.on('finish', () => {
      const provider = (req as GatewayRequest).callback?.provider ?? 'unknown';
      const verified = (req as GatewayRequest).callback?.verified;
      const outcome = outcomeForStatus(res.statusCode, res.locals.outcome as string | undefined);
      metrics.callbacks.inc({ provider, account: verified?.account ?? 'none', outcome });
      if (verified) {
        metrics.credentialMatches.inc({
          provider,
          account: verified.account,
          key: verified.key ?? 'none',
        });
      }
      metrics.ackLatency.observe(
        { provider, outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      if (outcome === 'rejected-auth' || outcome === 'rejected-address')
        limiter.recordFailure(address);
      const callback = (req as GatewayRequest).callback;
      if (callback && rejectedOutcomeFor(res.statusCode)) {
        rejectedAttempts.record({
          provider: callback.provider,
          inbound: callback.inbound,
          status: res.statusCode,
          message: (res.locals.errorMessage as string | undefined) ?? `HTTP ${res.statusCode}`,
        });
      }
    });

    // Express would answer HEAD with a GET route, storing a report nobody sent: providers only
    // GET or POST, so HEAD is refused like every other unrouted method.
    if (req.method === 'HEAD') {
      res
        .status(404)
        .json(
          errorBody(new NotFoundException('Callbacks are received by GET or POST only'), requestId),
        );
      return;
    }
    // Routing is case-insensitive and tolerates a trailing slash; a provider calls the one URL it
    // was given, so any other spelling (which may carry a URL token) is refused as unrouted.
    if (!isCanonicalCallbackPath(req.originalUrl, providers)) {
      res.status(404).json(errorBody(new NotFoundException(NOT_A_CALLBACK_URL), requestId));
      return;
    }

    const retryAfter = limiter.retryAfter(address);
    if (retryAfter > 0) {
      const exception = new HttpException(
        `Too many failed authentication attempts from ${address}; retry after ${retryAfter} s`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
      res.setHeader('Retry-After', String(retryAfter));
      res.status(429).json(errorBody(exception, requestId));
      return;
    }
    next();
  };
}
