import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { GatewayConfig } from '../config/gateway-config.js';
import { MIGRATIONS } from './migrations/index.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { StoredCallback } from './stored-callback.entity.js';

export const ENTITIES = [StoredCallback, OutboxEvent];

/**
 * PostgreSQL pool defaults (DATABASE_CONNECT_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS,
 * DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS, DATABASE_KEEPALIVE_DELAY_MS): a primary that hangs
 * (no reset, e.g. a partition or a frozen host) costs seconds, never a stuck pool.
 */
export const POOL_DEFAULTS = {
  /** Opening a connection, and waiting for a free pooled one. */
  connectTimeoutMs: 5_000,
  /** Server side (statement_timeout); the client gives up 1 s later (query_timeout). */
  statementTimeoutMs: 5_000,
  /** Server side: a session idle inside a transaction (its client gone) is ended. */
  idleInTransactionTimeoutMs: 30_000,
  /** TCP keepalive probes start after this much silence (a dead peer behind a partition). */
  keepAliveDelayMs: 10_000,
};

/** The client gives up this long after the server's statement_timeout would have fired. */
const CLIENT_GRACE_MS = 1_000;

/**
 * pg's query_timeout answers the caller but leaves the connection waiting on the dead server;
 * returned to the pool it would make every later query on it time out as well. This client closes
 * its socket when a query times out, so the pool drops it and opens a fresh one (through the
 * read-write endpoint, to the new primary after a failover).
 */
export class ResettingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (error: Error | null, result?: unknown) => void;
      args[last] = (error: Error | null, result?: unknown) => {
        if (isReadTimeout(error)) this.reset();
        callback(error, result);
      };
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).catch((error: unknown) => {
        if (isReadTimeout(error)) this.reset();
        throw error;
      }) as never;
    }
    return result as never;
  }

  private reset(): void {
    (
      this as unknown as { connection?: { stream?: { destroy(): void } } }
    ).connection?.stream?.destroy();
  }
}

function isReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

/** The node-postgres pool options (TypeORM's `extra`) for `config`. */
export function poolOptions(
  config: Extract<GatewayConfig['database'], { type: 'postgres' }>,
  purpose: 'serve' | 'migrate' = 'serve',
): Record<string, unknown> {
  const statementTimeoutMs = config.statementTimeoutMs ?? POOL_DEFAULTS.statementTimeoutMs;
  const keepAliveDelayMs = config.keepAliveDelayMs ?? POOL_DEFAULTS.keepAliveDelayMs;
  const common = {
    // Migrating holds one connection for the advisory lock and runs on another.
    max: purpose === 'migrate' ? Math.max(2, config.poolSize) : config.poolSize,
    connectionTimeoutMillis: config.connectTimeoutMs ?? POOL_DEFAULTS.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: keepAliveDelayMs,
    idle_in_transaction_session_timeout:
      config.idleInTransactionTimeoutMs ?? POOL_DEFAULTS.idleInTransactionTimeoutMs,
    Client: ResettingClient,
  };
  // Migrations may rewrite a large table and wait for the advisory lock: no statement limit.
  if (purpose === 'migrate') return common;
  return {
    ...common,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_GRACE_MS,
  };
}

/** TypeORM options for PostgreSQL (DATABASE_URL) or the embedded SQLite file. Never synchronize. */
export function dataSourceOptions(
  config: GatewayConfig['database'],
  purpose: 'serve' | 'migrate' = 'serve',
): DataSourceOptions {
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
      extra: poolOptions(config, purpose),
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
