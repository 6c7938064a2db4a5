import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { ConfigurationError } from './config/environment.js';
import { loadConfig } from './config/gateway-config.js';
import { dataSourceOptions } from './persistence/database.options.js';

/** Runs pending migrations and exits: the Kubernetes Job's entry point (`node dist/src/migrate.js`). */
async function migrate(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  const dataSource = new DataSource({
    ...dataSourceOptions(config.database),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    process.stdout.write(
      applied.length > 0
        ? `Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}\n`
        : 'Database schema is up to date\n',
    );
  } finally {
    await dataSource.destroy();
  }
}

migrate().catch((error: unknown) => {
  process.stderr.write(
    error instanceof ConfigurationError
      ? `${error.message}\n`
      : `Migration failed: ${(error as Error).stack}\n`,
  );
  process.exit(1);
});
