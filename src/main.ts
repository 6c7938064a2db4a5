import { existsSync } from 'node:fs';
import { createGateway } from './app.factory.js';
import { ConfigurationError } from './config/environment.js';
import { loadConfig } from './config/gateway-config.js';
import { Logger } from 'nestjs-pino';
import { installGracefulShutdown } from './http/graceful-shutdown.js';

async function main(): Promise<void> {
  // A .env file is read in development; real environment variables win over it.
  if (existsSync('.env')) process.loadEnvFile('.env');

  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const app = await createGateway(config);
  installGracefulShutdown(app, config.http.shutdownTimeoutMs, app.get(Logger));
  await app.listen(config.port);
}

main().catch((error: unknown) => {
  process.stderr.write(`Gateway failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
