/**
 * `npm run simulate` and `npm run events` start fast when the build is current (issue 14: well
 * under 2 s): scripts/build-if-stale.mjs spawns nothing then, and the CLIs load only the pure
 * modules they need — never NestJS, TypeORM, Swagger, Express or a database driver, which cost
 * most of their start-up before. What is loaded is asserted, not how long it takes (a loaded
 * machine makes timings noisy); the times are printed as diagnostics.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../../src/config/startup-environment.js';
import { freePort } from '../support/gateway-process.js';
import { runCommand } from '../support/run-command.js';

const ROOT = projectRoot();
const SIMULATE_JS = fileURLToPath(new URL('../../src/bin/simulate.js', import.meta.url));
const EVENTS_JS = fileURLToPath(new URL('../../src/bin/events.js', import.meta.url));
const BUILD_IF_STALE = join(ROOT, 'scripts', 'build-if-stale.mjs');

/** Packages of the gateway that a developer command has no use for. */
const NOT_FOR_A_CLI = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/microservices',
  '@nestjs/platform-express',
  '@nestjs/swagger',
  '@nestjs/terminus',
  '@nestjs/typeorm',
  'typeorm',
  'express',
  'rxjs',
  'pg',
  'better-sqlite3',
  'pino',
];

/**
 * Files a CLI may load at most. About 490 now (half of them class-validator, which parses the
 * configuration); simulate loaded 1,793 and events 908 when they imported the gateway's modules.
 */
const MAX_MODULES = 750;

/** Module hooks for a child process: append every ES module file it loads to $LOADED_MODULES_LOG. */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.LOADED_MODULES_LOG, url + '\\n');
  return next(url, context);
}
`;

/** Preload for a child process: the hooks, and every CommonJS file it loaded once it exits. */
const RECORDER = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
register('./hooks.mjs', import.meta.url);
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const files = Object.keys(cache).map((path) => pathToFileURL(path).href + '\\n');
  appendFileSync(process.env.LOADED_MODULES_LOG, files.join(''));
});
`;

/** The package a loaded file belongs to (`@scope/name` or `name`), or null for project files. */
function packageOf(url: string): string | null {
  const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return match ? match[1] : null;
}

describe('simulate and events start fast with a current build', () => {
  let dir: string;
  let closedPort: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-cli-startup-'));
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(dir, 'record.mjs'), RECORDER);
    closedPort = String(await freePort());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a CLI in an empty directory (the demo configuration) and returns what it loaded. */
  async function loaded(script: string, args: string[], env: Record<string, string> = {}) {
    const log = join(dir, `modules-${Math.random().toString(36).slice(2)}.log`);
    const result = await runCommand(
      process.execPath,
      ['--import', pathToFileURL(join(dir, 'record.mjs')).href, script, ...args],
      { cwd: dir, env: { LOADED_MODULES_LOG: log, ...env } },
    );
    const files = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean));
    const packages = new Set([...files].map(packageOf).filter((name) => name !== null));
    return { result, files, packages };
  }

  const RUNS = [
    { name: 'simulate --help', script: SIMULATE_JS, args: ['--help'], code: 0, says: /^Usage:/ },
    {
      name: 'simulate nicepay (sandbox and gateway unreachable)',
      script: SIMULATE_JS,
      args: ['nicepay', '--url', 'http://127.0.0.1:PORT'],
      code: 1,
      says: /Could not reach the gateway/,
    },
    { name: 'simulate topup', script: SIMULATE_JS, args: ['topup'], code: 1, says: /topup/ },
    { name: 'events --help', script: EVENTS_JS, args: ['--help'], code: 0, says: /^Usage:/ },
    {
      name: 'events (broker unreachable)',
      script: EVENTS_JS,
      args: [],
      code: 1,
      says: /Could not connect to RabbitMQ/,
    },
  ];

  for (const { name, script, args, code, says } of RUNS) {
    it(`${name}: no NestJS, TypeORM, Express or database driver, at most ${MAX_MODULES} files`, async (t) => {
      const { result, files, packages } = await loaded(
        script,
        args.map((arg) => arg.replace('PORT', closedPort)),
        {
          SANDBOX_PORT: closedPort,
          AMQP_URL: `amqp://guest:guest@127.0.0.1:${closedPort}`,
        },
      );
      assert.equal(result.code, code, result.stdout + result.stderr);
      assert.match(result.stdout + result.stderr, says);
      const forbidden = NOT_FOR_A_CLI.filter((name) => packages.has(name));
      assert.deepEqual(forbidden, [], `loaded ${forbidden.join(', ')}`);
      assert.ok(files.size <= MAX_MODULES, `${files.size} files loaded`);
      t.diagnostic(`${files.size} files, ${result.seconds.toFixed(2)} s`);
    });
  }

  it('the checked-out build: `node scripts/build-if-stale.mjs && node dist/src/bin/simulate.js --help`', async (t) => {
    const script = pathToFileURL(BUILD_IF_STALE).href;
    const { staleSource } = (await import(script)) as { staleSource(): string | null };
    const stale = staleSource();
    if (stale !== null) {
      // Running it would rebuild dist/ under the other tests.
      t.skip(`${stale} is newer than the build`);
      return;
    }
    const node = `"${process.execPath}"`;
    const result = await runCommand(
      'bash',
      ['-c', `${node} scripts/build-if-stale.mjs && ${node} "${SIMULATE_JS}" --help`],
      { cwd: ROOT },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: npm run simulate/);
    assert.doesNotMatch(result.stderr, /Building/);
    t.diagnostic(`${result.seconds.toFixed(2)} s`);
  });

  describe('scripts/build-if-stale.mjs in a project of its own', () => {
    let project: string;
    let npmLog: string;
    const env = () => ({
      PATH: `${join(project, 'bin')}:${process.env.PATH ?? ''}`,
      FAKE_NPM_LOG: npmLog,
    });
    before(() => {
      project = mkdtempSync(join(tmpdir(), 'gw-stale-run-'));
      npmLog = join(project, 'npm.log');
      for (const sub of ['scripts', 'bin', 'src/bin', 'dist/src/bin']) {
        mkdirSync(join(project, sub), { recursive: true });
      }
      copyFileSync(BUILD_IF_STALE, join(project, 'scripts', 'build-if-stale.mjs'));
      // An `npm` that only says it was asked to build.
      writeFileSync(join(project, 'bin', 'npm'), '#!/bin/sh\necho "$@" >> "$FAKE_NPM_LOG"\n');
      chmodSync(join(project, 'bin', 'npm'), 0o755);
      writeFileSync(join(project, 'src', 'bin', 'a.ts'), '');
      writeFileSync(join(project, 'dist', 'src', 'bin', 'a.js'), '');
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(project, 'src', 'bin', 'a.ts'), old, old);
    });
    after(() => rmSync(project, { recursive: true, force: true }));

    const check = () =>
      runCommand(process.execPath, [join(project, 'scripts', 'build-if-stale.mjs')], {
        cwd: project,
        env: env(),
      });

    it('spawns nothing when the build is current', async () => {
      const result = await check();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(existsSync(npmLog), false, 'npm was run');
      assert.equal(result.stderr, '');
    });

    it('runs `npm run build` once a source changed, then stamps the build', async () => {
      utimesSync(join(project, 'dist', 'src', 'bin', 'a.js'), new Date(0), new Date(0));
      const result = await check();
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Building: src\/bin\/a\.ts changed since the last build/);
      assert.equal(readFileSync(npmLog, 'utf8'), 'run build --silent\n');
      assert.ok(existsSync(join(project, 'dist', '.build-stamp')));
      const again = await check();
      assert.equal(again.code, 0, again.stderr);
      assert.equal(readFileSync(npmLog, 'utf8'), 'run build --silent\n', 'built only once');
    });

    it('on a fresh clone (no dist/ at all) says there is no build yet, not that a file changed', async () => {
      rmSync(join(project, 'dist'), { recursive: true, force: true });
      rmSync(npmLog, { force: true });
      const result = await check();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, 'No build yet; building…\n');
      assert.equal(readFileSync(npmLog, 'utf8'), 'run build --silent\n');
    });
  });
});
