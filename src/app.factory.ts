import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { bodyParsing, effectiveLimit } from './http/body-parsing.js';
import { CallbackProviderRegistry } from './ingest/provider-registry.js';
import { ErrorFilter } from './http/error.filter.js';
import { mountSwaggerUi } from './http/openapi.js';
import {
  GatewayStartupError,
  QuietFrameworkLogger,
  StartupLogCollector,
} from './http/framework-logger.js';
import { assignRequestId, requestLogging, requestScope, rootLogger } from './http/logging.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthFailureLimiter } from './http/auth-failure-limiter.js';
import { callbackTraffic } from './http/callback-traffic.js';
import { consoleSecurityHeaders, docsSecurityHeaders } from './http/security-headers.js';
import { portSeparation } from './http/management-port.js';
import { refuseUnprintableInput } from './http/printable-input.js';
import { traceRequests } from './observability/tracing.js';
import { GatewayMetrics } from './observability/gateway-metrics.js';
import { RejectedAttemptRecorder } from './retention/rejected-attempts.js';

const OTHER_ROUTES_BODY_LIMIT = '16kb';

/** Builds the gateway application (not yet listening) for a validated configuration. */
export async function createGateway(config: GatewayConfig): Promise<NestExpressApplication> {
  const collector = new StartupLogCollector();
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
      bodyParser: false,
      bufferLogs: true,
      logger: collector,
      // Throw start-up errors to the caller (main.ts explains known ones) instead of exiting here.
      abortOnError: false,
    });
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
  const providers = app.get(CallbackProviderRegistry);
  const providerNames: ReadonlySet<string> = new Set(providers.names());
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    assignRequestId(req, res);
    next();
  });
  app.use(requestLogging(rootLogger(config), providerNames));
  // With MANAGEMENT_PORT: admin, metrics and docs only there, callbacks only on PORT.
  app.use(portSeparation(config));
  app.use(
    '/callbacks',
    callbackTraffic(
      app.get(GatewayMetrics),
      AuthFailureLimiter.fromConfig(config),
      app.get(RejectedAttemptRecorder),
      providerNames,
    ),
  );
  // Per route: each provider's callbacks up to its own limit (capped by BODY_LIMIT), other
  // callback paths up to BODY_LIMIT; nothing else the gateway serves takes a large body.
  const limits = new Map(
    providers
      .names()
      .map((name) => [name, effectiveLimit(providers.get(name)?.bodyLimit, config.http.bodyLimit)]),
  );
  app.use(bodyParsing(limits, config.http.bodyLimit, OTHER_ROUTES_BODY_LIMIT));
  app.use(requestScope);
  // Operator and internal routes: no control character reaches a handler or the database.
  app.use(refuseUnprintableInput());
  // OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT): a span per callback request, continuing the
  // caller's traceparent; the span name carries the provider, never a URL token.
  app.use(
    '/callbacks',
    traceRequests((req) => {
      const provider = (req.url ?? '').split(/[/?]/)[1] ?? '';
      return `/callbacks/${providerNames.has(provider) ? provider : ':provider'}`;
    }),
  );
  app.useGlobalFilters(new ErrorFilter());
  // The operator console (management port): its own CSP; nothing of it runs on /callbacks.
  if (config.admin) app.use('/console', consoleSecurityHeaders());
  if (config.http.docsEnabled) {
    app.use(['/docs', '/docs-json'], docsSecurityHeaders());
    mountSwaggerUi(app, config);
  }
  return app;
}
