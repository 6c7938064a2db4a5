import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { ConfigurationError } from './config/environment.js';
// Registers the providers' own account sections before the configuration is loaded.
import './providers/index.js';
import { loadConfig } from './config/gateway-config.js';
import { runMigrationsGuarded } from './persistence/schema-migrations.js';

/**
 * Runs pending migrations and exits: the Kubernetes init container's entry point
 * (`node dist/src/migrate.js`). Runners started at the same time (one per new pod) wait for each
 * other on a PostgreSQL advisory lock: the first applies the migrations, the others find none.
 */
async function migrate(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  const applied = await runMigrationsGuarded(config.database);
  process.stdout.write(
    applied.length > 0
      ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n`
      : 'Database schema is up to date\n',
  );
}

migrate().catch((error: unknown) => {
  process.stderr.write(
    error instanceof ConfigurationError
      ? `${error.message}\n`
      : `Migration failed: ${(error as Error).stack}\n`,
  );
  process.exit(1);
});
