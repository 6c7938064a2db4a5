/**
 * What a newcomer sees: `npm start` on a fresh clone (the demo configuration), the start-up
 * banner, production ignoring .env, a missing PostgreSQL database, readiness naming what is down,
 * and the broker reconnect log backing off. Real processes, real RabbitMQ and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AMQP_URL, deleteTopology, EventTap, sleep, uniqueExchange } from './support/broker.js';
import { POSTGRES_ADMIN_URL } from './support/databases.js';
import { startGateway } from './support/gateway.js';
import {
  banner,
  type DemoGateway,
  type Launched,
  launch,
  startDemoGateway,
  until,
} from './support/demo-gateway.js';
import { freePort } from './support/gateway-process.js';

const SIMULATE_JS = fileURLToPath(new URL('../src/bin/simulate.js', import.meta.url));
const EVENTS_JS = fileURLToPath(new URL('../src/bin/events.js', import.meta.url));

const bannerDone = (started: Launched) => () => banner(started.stderr()).length > 0;

describe('a newcomer starting the gateway', () => {
  describe('npm start with no configuration in development: the demo', () => {
    let gateway: DemoGateway;
    let tap: EventTap;

    before(async () => {
      // Only what a fresh shell has: no NODE_ENV, no provider setting, no .env in the directory
      // (PORT, EVENTS_EXCHANGE and SANDBOX_PORT keep it apart from anything else on this machine).
      gateway = await startDemoGateway();
      tap = await EventTap.bind(gateway.exchange);
    });
    after(async () => {
      await tap?.close();
      await gateway?.stop();
    });

    it('prints one banner: the demo line, URL, docs, storage, broker, every provider, warnings', () => {
      const lines = banner(gateway.stderr());
      const text = lines.join('\n');
      assert.equal(lines.filter((line) => line.startsWith('DEMO CONFIGURATION')).length, 1);
      assert.match(text, new RegExp(`listening +http://127\\.0\\.0\\.1:${gateway.port}\\n`));
      assert.match(text, new RegExp(`docs +http://127\\.0\\.0\\.1:${gateway.port}/docs`));
      assert.match(
        text,
        new RegExp(`storage +SQLite ${join(gateway.dir, 'data', 'gateway.sqlite')}`),
      );
      assert.match(text, /broker +amqp:\/\/guest:\*\*\*@localhost:5672/);
      for (const provider of ['mcpayment', 'nicepay', 'ppob', 's88pay', 'sidopulsa']) {
        assert.match(text, new RegExp(`^ +${provider} +enabled .+verification: `, 'm'));
      }
      assert.match(
        text,
        new RegExp(
          `^ +nicepay +enabled .+verification: status inquiry at http://localhost:${gateway.sandboxPort}$`,
          'm',
        ),
      );
      assert.match(text, /^WARNING: NICEPAY_ALLOWED_IPS=\*/m);
      assert.match(text, /^WARNING: DEV_TOOLS_ENABLED=true/m);
      assert.match(text, /^WARNING: ADMIN_API_KEY is the published demo key/m);
      // The published demo secrets are never printed, not even these.
      assert.doesNotMatch(
        gateway.stderr() + gateway.stdout(),
        /HASHKEY123|mysecretkey|local-ppob-token/,
      );
    });

    it('cuts the framework chatter at info level', async () => {
      await sleep(1_200); // logs are flushed at least every second
      assert.doesNotMatch(gateway.stdout(), /InstanceLoader|RouterExplorer|RoutesResolver/);
    });

    it('listens on 127.0.0.1 only', async () => {
      const external = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal);
      assert.equal((await fetch(`http://127.0.0.1:${gateway.port}/health/live`)).status, 200);
      if (!external) return; // a machine with loopback only has nothing else to try
      await assert.rejects(fetch(`http://${external.address}:${gateway.port}/health/live`));
    });

    it('npm run simulate works for every provider with no second setup step, and events --json shows the CloudEvent', async () => {
      const events = launch({ EVENTS_EXCHANGE: gateway.exchange }, gateway.dir, EVENTS_JS, [
        '#.nicepay',
        '--json',
      ]);
      try {
        await until('the events tail', () => events.stderr().includes('Listening on exchange'));
        for (const provider of ['nicepay', 'mcpayment', 's88pay', 'sidopulsa', 'ppob']) {
          const simulate = launch(
            { PORT: String(gateway.port), SANDBOX_PORT: String(gateway.sandboxPort) },
            gateway.dir,
            SIMULATE_JS,
            [provider],
          );
          assert.equal(
            await simulate.exited,
            0,
            `${provider}: ${simulate.stdout()}${simulate.stderr()}`,
          );
          assert.match(simulate.stdout(), /^< 200 /m);
        }
        await tap.waitFor(5);
        assert.deepEqual(tap.messages.map((m) => m.fields.routingKey).sort(), [
          'payment.succeeded.mcpayment',
          'payment.succeeded.nicepay',
          'payment.succeeded.s88pay',
          'topup.succeeded.ppob',
          'topup.succeeded.sidopulsa',
        ]);
        await until('the CloudEvent printed', () => events.stdout().includes('"specversion"'));
        const printed = events.stdout();
        assert.match(printed, /^# payment\.succeeded\.nicepay$/m);
        const json = JSON.parse(printed.slice(printed.indexOf('{'))) as Record<string, unknown>;
        assert.equal(json.type, 'payment.succeeded');
        assert.equal((json.data as Record<string, unknown>).provider, 'nicepay');
      } finally {
        events.child.kill('SIGINT');
        await events.exited;
      }
    });
  });

  describe('production', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'gw-prod-'));
      // A checkout's .env (as `cp .env.example .env` leaves it): must not reach production.
      writeFileSync(join(dir, '.env'), 'DEV_TOOLS_ENABLED=true\nNICEPAY_IMID=IONPAYTEST\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('never reads .env and never uses the demo; the banner says what is off and why', async () => {
      const port = await freePort();
      const managementPort = await freePort();
      const exchange = uniqueExchange();
      const gateway = launch(
        {
          NODE_ENV: 'production',
          PORT: String(port),
          MANAGEMENT_PORT: String(managementPort),
          AMQP_URL,
          EVENTS_EXCHANGE: exchange,
          SQLITE_PATH: join(dir, 'gw.sqlite'),
          MCPAYMENT_HASH_KEY: 'production-hash-key',
          MCPAYMENT_VERIFY: 'off',
        },
        dir,
      );
      try {
        await until('the banner', bannerDone(gateway));
        const text = banner(gateway.stderr()).join('\n');
        assert.doesNotMatch(text, /DEMO/);
        assert.match(text, /settings +environment/);
        assert.match(text, /listening +http:\/\/0\.0\.0\.0:\d+ \(every interface\)/);
        assert.match(text, /dev tools +off/);
        assert.match(text, /^ +mcpayment +enabled/m);
        assert.match(text, /^ +nicepay +disabled +\(NICEPAY_IMID and NICEPAY_MERCHANT_KEY unset/m);
        // Docs are on the management port, so they are not public.
        assert.doesNotMatch(text, /DOCS_ENABLED=true in production/);
        assert.match(
          text,
          new RegExp(`management +http://127\\.0\\.0\\.1:${managementPort} \\(MANAGEMENT_PORT\\)`),
        );
        assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 404);
        assert.equal((await fetch(`http://127.0.0.1:${managementPort}/metrics`)).status, 200);
        assert.equal(
          (await fetch(`http://127.0.0.1:${port}/dev/sign/mcpayment`, { method: 'POST' })).status,
          404,
        );
        assert.equal(
          (await fetch(`http://127.0.0.1:${port}/callbacks/nicepay`, { method: 'POST' })).status,
          404,
        );
      } finally {
        gateway.child.kill('SIGTERM');
        await gateway.exited;
        await deleteTopology(exchange).catch(() => undefined);
      }
    });
  });

  it('a PostgreSQL database that does not exist: one JSON line naming it and how to create it, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-nodb-'));
    try {
      const url = new URL(POSTGRES_ADMIN_URL);
      url.pathname = '/gw_missing_database_h14';
      const gateway = launch(
        {
          NODE_ENV: 'test',
          DATABASE_URL: url.toString(),
          MCPAYMENT_HASH_KEY: 'k',
          MCPAYMENT_VERIFY: 'off',
        },
        dir,
      );
      assert.equal(await gateway.exited, 1);
      const lines = (gateway.stdout() + gateway.stderr()).split('\n').filter(Boolean);
      assert.equal(lines.length, 1, lines.join('\n'));
      const entry = JSON.parse(lines[0]) as Record<string, unknown>;
      assert.equal(entry.level, 60);
      assert.equal(entry.database, 'gw_missing_database_h14');
      assert.match(String(entry.msg), /database "gw_missing_database_h14" does not exist/);
      assert.match(String(entry.hint), /createdb .*gw_missing_database_h14/);
      assert.ok(!lines[0].includes('\u001b['), 'no colour codes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('/health/ready stays 200 with the broker unreachable: its state is in the body', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-ready-'));
    // Port 1 refuses at once: the broker is down from the start.
    const gateway = await startGateway({
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
      SQLITE_PATH: join(dir, 'gw.sqlite'),
    });
    try {
      const response = await fetch(`${gateway.url}/health/ready`);
      assert.equal(response.status, 200, 'a broker outage never takes the gateway out of service');
      const body = (await response.json()) as {
        status: string;
        info: { broker: { status: string; connected: boolean; components: object } };
      };
      assert.equal(body.status, 'degraded');
      assert.equal(body.info.broker.status, 'degraded');
      assert.equal(body.info.broker.connected, false);
      assert.deepEqual(Object.keys(body.info.broker.components), ['publisher']);
    } finally {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable broker is logged once, then retried with a growing pause (1 s, 2 s, 4 s, …)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-backoff-'));
    const gateway = launch(
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'debug',
        PORT: String(await freePort()),
        AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
        SQLITE_PATH: join(dir, 'gw.sqlite'),
        MCPAYMENT_HASH_KEY: 'k',
        MCPAYMENT_VERIFY: 'off',
      },
      dir,
    );
    try {
      await until('the banner', bannerDone(gateway));
      await sleep(8_000);
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      const entries = gateway
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; context?: string });
      // Each part that uses the broker (publisher, command consumers, …) has its own connection.
      const warnings = entries.filter((e) => e.level === 40 && /RabbitMQ unreachable/.test(e.msg));
      const retries = entries.filter((e) => /RabbitMQ still unreachable/.test(e.msg));
      const components = new Set(warnings.map((e) => e.context));
      assert.ok(components.has('Broker:publisher'), 'the publisher warns');
      assert.equal(warnings.length, components.size, 'one warning per component, not per attempt');
      for (const warning of warnings) assert.match(warning.msg, /retrying every 1 s up to 30 s/);
      assert.ok(
        retries.every((e) => e.level === 20),
        'later attempts are debug, not warnings',
      );
      // Pauses of 1 + 2 + 4 s: at most three more attempts in ~8 s (one a second would be eight).
      for (const component of components) {
        const own = retries.filter((e) => e.context === component).length;
        assert.ok(own >= 1 && own <= 3, `${component}: ${own} retries`);
      }
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
