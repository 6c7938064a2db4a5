import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { loadProviderGateways } from './providers/index.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { bodyParsing, effectiveLimit } from './http/body-parsing.js';
import { CallbackProviderRegistry } from './ingest/provider-registry.js';
import { ErrorFilter } from './common/error.filter.js';
import { directRouteStep, directRoutes } from './http/direct-routes.js';
import { DocsAfterRoutes, mountSwaggerUi } from './http/openapi.js';
import {
  GatewayStartupError,
  QuietFrameworkLogger,
  StartupLogCollector,
} from './http/framework-logger.js';
import { assignRequestId, requestLogging, requestScope, rootLogger } from './http/logging.js';
import { AuthFailureLimiter } from './http/auth-failure-limiter.js';
import { callbackTraffic } from './http/callback-traffic.js';
import { consoleSecurityHeaders, docsSecurityHeaders } from './http/security-headers.js';
import { portSeparation } from './http/management-port.js';
import { refuseUnprintableInput } from './http/printable-input.js';
import { traceRequests } from './observability/tracing.js';
import { GatewayExpressAdapter } from './http/express-shaped-requests.js';
import { GatewayMetrics } from './observability/gateway-metrics.js';
import { RejectedAttemptRecorder } from './retention/rejected-attempts.js';

const OTHER_ROUTES_BODY_LIMIT = '16kb';

type Step = (req: Request, res: Response, next: (error?: unknown) => void) => void;

/**
 * The middleware every request runs, as ONE Express layer: Express's router walks a layer per
 * `app.use` for every request (matching its path, trimming and restoring `req.url` for a mounted
 * one, a closure per step), which made the router the largest allocator of a callback (issue 28).
 * Same order and semantics: a step that throws or passes an error ends the chain with it.
 */
function oneLayer(steps: Step[]): Step {
  return (req, res, done) => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null) return done(error);
      const step = steps[index];
      index += 1;
      if (!step) return done();
      try {
        step(req, res, next);
      } catch (thrown) {
        done(thrown);
      }
    };
    next();
  };
}

/** A step for `/callbacks` paths only, matched as an Express mount path: case-insensitive, whole segment. */
function underCallbacks(step: Step): Step {
  return (req, res, next) =>
    /^\/callbacks(?:[/?]|$)/i.test(req.url) ? step(req, res, next) : next();
}

/** Builds the gateway application (not yet listening) for a validated configuration. */
export async function createGateway(config: GatewayConfig): Promise<NestExpressApplication> {
  const collector = new StartupLogCollector();
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(config, await loadProviderGateways()),
      new GatewayExpressAdapter(),
      {
        bodyParser: false,
        bufferLogs: true,
        logger: collector,
        // Throw start-up errors to the caller (main.ts explains known ones) instead of exiting here.
        abortOnError: false,
      },
    );
  } catch (error) {
    throw new GatewayStartupError(error, collector.entries);
  }
  app.useLogger(new QuietFrameworkLogger(app.get(Logger)));
  app.flushLogs();

  // X-Forwarded-For is believed only from TRUSTED_PROXIES (proxy-addr walks the chain from the right).
  app.set(
    'trust proxy',
    config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
  );
  app.disable('x-powered-by');
  // Acks and admin answers are never cached: hashing every body for an ETag is wasted work.
  app.set('etag', false);
  const errorFilter = new ErrorFilter();
  const providers = app.get(CallbackProviderRegistry);
  const providerNames: ReadonlySet<string> = new Set(providers.names());
  // Per route: each provider's callbacks up to its own limit (capped by BODY_LIMIT), other
  // callback paths up to BODY_LIMIT; nothing else the gateway serves takes a large body.
  const limits = new Map(
    providers
      .names()
      .map((name) => [name, effectiveLimit(providers.get(name)?.bodyLimit, config.http.bodyLimit)]),
  );
  app.use(
    oneLayer([
      (req, res, next) => {
        assignRequestId(req, res);
        next();
      },
      requestLogging(rootLogger(config), providerNames),
      // With MANAGEMENT_PORT: admin, metrics and docs only there, callbacks only on PORT.
      portSeparation(config),
      underCallbacks(
        callbackTraffic(
          app.get(GatewayMetrics),
          AuthFailureLimiter.fromConfig(config),
          app.get(RejectedAttemptRecorder),
          providerNames,
        ),
      ),
      bodyParsing(limits, config.http.bodyLimit, OTHER_ROUTES_BODY_LIMIT),
      requestScope,
      // Operator and internal routes: no control character reaches a handler or the database.
      refuseUnprintableInput(),
      // OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT): a span per callback request, continuing the
      // caller's traceparent; the span name carries the provider, never a URL token.
      underCallbacks(
        traceRequests((req) => {
          const provider = (req.url ?? '').split(/[/?]/)[2] ?? '';
          return `/callbacks/${providerNames.has(provider) ? provider : ':provider'}`;
        }),
      ),
    ]),
  );
  // Callback routes with one guard and a handler that writes its own ack are answered here, as
  // Nest would answer them, without the rest of the router and Nest's execution context.
  app.use(directRouteStep(directRoutes(app, 'callbacks'), errorFilter));
  app.useGlobalFilters(errorFilter);
  // The operator console (management port): its own CSP; nothing of it runs on /callbacks.
  if (config.admin) app.use('/console', consoleSecurityHeaders());
  if (config.http.docsEnabled) {
    // After the routes: a callback does not walk the docs' layers first.
    app.get(DocsAfterRoutes).schedule(() => {
      app.use(['/docs', '/docs-json'], docsSecurityHeaders());
      mountSwaggerUi(app, config);
    });
  }
  return app;
}
