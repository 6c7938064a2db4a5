import type { NextFunction, Request, Response } from 'express';
import { errorBody } from './error.filter.js';
import { HttpException, HttpStatus } from '@nestjs/common';
import type { GatewayRequest } from '../ingest/gateway-request.js';
import { plainAddress } from '../ingest/gateway-request.js';
import { type GatewayMetrics, outcomeForStatus } from '../observability/gateway-metrics.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';

/**
 * Runs first for every /callbacks request: refuses an address that failed authentication too
 * often (before its body is even read), and when the response is finished counts the outcome,
 * observes the ack latency and feeds authentication failures to the limiter.
 */
export function callbackTraffic(metrics: GatewayMetrics, limiter: AuthFailureLimiter) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const address = plainAddress(req.ip ?? req.socket.remoteAddress);
    res.on('finish', () => {
      const provider = (req as GatewayRequest).callback?.provider ?? 'unknown';
      const outcome = outcomeForStatus(res.statusCode, res.locals.outcome as string | undefined);
      metrics.callbacks.inc({ provider, outcome });
      metrics.ackLatency.observe({ provider, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
      if (outcome === 'rejected-auth' || outcome === 'rejected-address') limiter.recordFailure(address);
    });

    const retryAfter = limiter.retryAfter(address);
    if (retryAfter > 0) {
      const exception = new HttpException(
        `Too many failed authentication attempts from ${address}; retry after ${retryAfter} s`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
      res.setHeader('Retry-After', String(retryAfter));
      res.status(429).json(errorBody(exception));
      return;
    }
    next();
  };
}
