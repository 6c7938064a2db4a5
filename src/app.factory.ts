import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { bodyParserErrors, bodyParsers } from './http/body-parsing.js';
import { ErrorFilter } from './http/error.filter.js';
import { mountSwaggerUi } from './http/openapi.js';

/** Builds the gateway application (not yet listening) for a validated configuration. */
export async function createGateway(config: GatewayConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  // X-Forwarded-For is believed only from TRUSTED_PROXIES (proxy-addr walks the chain from the right).
  app.set('trust proxy', config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false);
  app.disable('x-powered-by');
  for (const parser of bodyParsers(config.http.bodyLimit)) app.use(parser);
  app.use(bodyParserErrors(config.http.bodyLimit));
  app.useGlobalFilters(new ErrorFilter());
  if (config.http.docsEnabled) mountSwaggerUi(app);
  return app;
}
