import type { NextFunction, Request, Response } from 'express';
import { errorBody } from '../common/error.filter.js';
import { isIP } from 'node:net';
import { BadRequestException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import type { GatewayRequest } from '../ingest/gateway-request.js';
import { clientAddressOf } from '../ingest/gateway-request.js';
import { type GatewayMetrics, outcomeForStatus } from '../observability/gateway-metrics.js';
import { type RejectedAttemptSink, rejectedOutcomeFor } from '../retention/rejected-attempts.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';

const NOT_A_CALLBACK_URL =
  'No callback endpoint at this path: callback URLs are exactly /callbacks/<provider>, /callbacks/<provider>/<token> or (SNAP) /callbacks/snap/<account>/v1.0/<service>';

/**
 * The provider of `/callbacks/<provider>`, `/callbacks/<provider>/<one segment>` or
 * `/callbacks/<provider>/<one segment>/v<major>.<minor>/<service path>`, spelled as
 * registered (lower case, not percent-encoded), no empty segment, no trailing slash; null for any
 * other path.
 */
export function canonicalCallbackProvider(
  url: string,
  providers: ReadonlySet<string>,
): string | null {
  // SNAP-style providers append the standard's versioned service path to the account segment
  // (`/callbacks/snap/<account>/v1.0/transfer-va/payment`): lower case, fixed shape, routed exactly.
  const match = /^\/callbacks\/([a-z0-9]+)(?:\/[^/]+(?:\/v\d+\.\d+(?:\/[a-z0-9-]+)+)?)?$/.exec(
    url.split('?')[0],
  );
  return match !== null && providers.has(match[1]) ? match[1] : null;
}

/** Refusals that count toward the per-address limit (429 itself does not). */
function isRefusal(status: number): boolean {
  return status === 404 || rejectedOutcomeFor(status) !== null;
}

/**
 * Runs first for every /callbacks request: refuses non-canonical paths and an address that was
 * refused too often (before its body is even read), and when the response is finished counts the
 * outcome, observes the ack latency and feeds every refusal to the limiter. A request refused
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
    const address = clientAddressOf(req);
    const requestId = (req as Request & { id?: string }).id;
    const pathProvider = canonicalCallbackProvider(req.originalUrl, providers) ?? undefined;
    // Refused before the body is read: the connection is closed rather than drained, so a client
    // cannot queue its next request behind an unread body (and a flood pays a handshake each).
    const refuse = (exception: HttpException) => {
      res.setHeader('Connection', 'close');
      res.status(exception.getStatus()).json(errorBody(exception, requestId));
    };

    res.on('finish', () => {
      // A route of a provider that is not a callback (SNAP's token endpoint) names its provider
      // in res.locals; a body refused before any route stays `unknown`.
      const provider =
        (req as GatewayRequest).callback?.provider ??
        (res.locals.provider as string | undefined) ??
        'unknown';
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
      // A forwarded address that is no address is refused without counting: the only address
      // to count it against would be the proxy's, shared by every client.
      if (isRefusal(res.statusCode) && isIP(address) !== 0)
        limiter.recordFailure(address, pathProvider);
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

    // With TRUSTED_PROXIES the client address is the proxy's X-Forwarded-For entry: whatever it
    // holds is refused here unless it is an address (it is stored, and allowlists compare it).
    if (isIP(address) === 0) {
      refuse(
        new BadRequestException(
          'X-Forwarded-For from the trusted proxy does not name a client IP address',
        ),
      );
      return;
    }

    const retryAfter = limiter.retryAfter(address, pathProvider);
    if (retryAfter > 0) {
      res.setHeader('Retry-After', String(retryAfter));
      refuse(
        new HttpException(
          `Too many refused requests from ${address}; retry after ${retryAfter} s`,
          HttpStatus.TOO_MANY_REQUESTS,
        ),
      );
      return;
    }
    // Express would answer HEAD with a GET route, storing a report nobody sent: providers only
    // GET or POST, so HEAD is refused like every other unrouted method.
    if (req.method === 'HEAD') {
      refuse(new NotFoundException('Callbacks are received by GET or POST only'));
      return;
    }
    // Routing is case-insensitive and tolerates a trailing slash; a provider calls the one URL it
    // was given, so any other spelling (which may carry a URL token) is refused as unrouted.
    if (pathProvider === undefined) {
      refuse(new NotFoundException(NOT_A_CALLBACK_URL));
      return;
    }

    next();
  };
}
