import type { NestExpressApplication } from '@nestjs/platform-express';
import { createGateway } from '../../src/app.factory.js';
import { type GatewayConfig, loadConfig } from '../../src/config/gateway-config.js';
import { listenGateway } from '../../src/http/management-port.js';
import { EventPublisher } from '../../src/messaging/event-publisher.js';
import { AMQP_URL, deleteTopology, EventTap, sleep, uniqueExchange } from './broker.js';
import { PROVIDER_ENV } from './credentials.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';

export interface RunningGateway {
  app: NestExpressApplication;
  config: GatewayConfig;
  url: string;
  /** Admin, metrics and docs: `url` unless MANAGEMENT_PORT (0: ephemeral) separates them. */
  managementUrl: string;
  /** Waits until the gateway's confirm channel is open (exchange declared). */
  brokerReady(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a gateway on an ephemeral loopback port with the given environment. */
export async function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AMQP_URL,
    OUTBOX_SWEEP_INTERVAL_MS: '250',
    PUBLISH_TIMEOUT_MS: '3000',
    ...PROVIDER_ENV,
    // No consumer of the shared default command queue: a test that sends commands names its own.
    EXPECTED_COMMANDS_QUEUE: 'off',
    ...env,
  });
  const app = await createGateway(config);
  const addresses = await listenGateway(app, config, { port: 0, host: '127.0.0.1' });
  const { port } = addresses.public;
  const publisher = app.get(EventPublisher);
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    managementUrl: `http://127.0.0.1:${(addresses.management ?? addresses.public).port}`,
    async brokerReady(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!publisher.connected) {
        if (Date.now() > deadline) throw new Error('Gateway did not connect to RabbitMQ');
        await sleep(20);
      }
    },
    close: () => app.close(),
  };
}

/**
 * One isolated environment: a fresh database, a unique exchange, a gateway, and a tap bound to
 * every event. `teardown` removes all of it.
 */
export interface TestBed {
  db: TestDatabase;
  exchange: string;
  gateway: RunningGateway;
  tap: EventTap;
  env: Record<string, string>;
  teardown(): Promise<void>;
}

export async function createTestBed(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  bindingKey = '#',
): Promise<TestBed> {
  const db = await createTestDatabase(kind);
  const exchange = uniqueExchange();
  const fullEnv = { ...db.env, EVENTS_EXCHANGE: exchange, ...env };
  const gateway = await startGateway(fullEnv);
  await gateway.brokerReady();
  const tap = await EventTap.bind(exchange, bindingKey);
  const bed: TestBed = {
    db,
    exchange,
    gateway,
    tap,
    env: fullEnv,
    async teardown() {
      await tap.close();
      await bed.gateway.close().catch(() => undefined);
      await deleteTopology(exchange).catch(() => undefined);
      await db.drop();
    },
  };
  return bed;
}

/** Rows in the callbacks table that were accepted (what "stored" means for a provider). */
export async function acceptedCallbacks(db: TestDatabase): Promise<Array<Record<string, unknown>>> {
  return db.query(`SELECT * FROM callbacks WHERE outcome = 'accepted' ORDER BY received_at`);
}
