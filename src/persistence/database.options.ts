import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { GatewayConfig } from '../config/gateway-config.js';
import { MIGRATIONS } from './migrations/index.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { StoredCallback } from './stored-callback.entity.js';

export const ENTITIES = [StoredCallback, OutboxEvent];

/** TypeORM options for PostgreSQL (DATABASE_URL) or the embedded SQLite file. Never synchronize. */
export function dataSourceOptions(config: GatewayConfig['database']): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: config.runMigrations,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false,
  };
  if (config.type === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: config.url,
      extra: { max: config.poolSize, connectionTimeoutMillis: 5_000 },
    };
  }
  mkdirSync(dirname(config.path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.path,
    // WAL lets readers (health, admin) run beside the single writer. FULL syncs every commit:
    // an acknowledged callback must survive a power cut, not only a process crash.
    prepareDatabase: (db: { pragma: (sql: string) => unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}
