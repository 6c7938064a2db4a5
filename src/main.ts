import { createGateway } from './app.factory.js';
import { ConfigurationError } from './config/environment.js';
import { type GatewayConfig, loadConfig } from './config/gateway-config.js';
import { type StartupEnvironment, startupEnvironment } from './config/startup-environment.js';
import { Logger } from 'nestjs-pino';
import { GatewayStartupError } from './http/framework-logger.js';
import { installGracefulShutdown } from './http/graceful-shutdown.js';
import { listenGateway } from './http/management-port.js';
import { startTracing, tracingRequested } from './observability/tracing.js';
import { startupBanner } from './http/startup-banner.js';
import { CallbackProviderRegistry } from './ingest/provider-registry.js';
import { startupFailure } from './persistence/startup-failure.js';

async function main(): Promise<void> {
  let startup: StartupEnvironment;
  let config: GatewayConfig;
  try {
    // .env (outside production) or the demo configuration (development, nothing configured).
    startup = startupEnvironment();
    config = loadConfig(startup.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  // Traces only when OTEL_EXPORTER_OTLP_ENDPOINT asks for them; the API is a no-op otherwise.
  if (tracingRequested()) startTracing({ serviceName: config.serviceName });
  let app;
  try {
    app = await createGateway(config);
  } catch (error) {
    // A known cause (no such database, …) is one JSON line saying what to do, not a stack trace.
    const known = startupFailure(error, config);
    const line = (fields: object) =>
      process.stdout.write(
        `${JSON.stringify({ level: 60, time: Date.now(), service: config.serviceName, ...fields })}\n`,
      );
    if (known) {
      line(known);
      process.exit(1);
    }
    // Unknown: what the components logged, then the error itself.
    if (error instanceof GatewayStartupError) {
      for (const entry of error.log) line({ ...entry, level: entry.level === 'warn' ? 40 : 50 });
    }
    throw error instanceof GatewayStartupError ? error.cause : error;
  }
  installGracefulShutdown(app, config.http.shutdownTimeoutMs, app.get(Logger));
  await listenGateway(app, config);
  const registry = app.get(CallbackProviderRegistry);
  const providers = registry.names().map((name) => registry.get(name)!);
  process.stderr.write(startupBanner(config, startup, providers));
  for (const note of startup.notes ?? []) process.stderr.write(`${note}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`Gateway failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
