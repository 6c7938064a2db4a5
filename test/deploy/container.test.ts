import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { ENVIRONMENT_VARIABLE_NAMES } from '../../src/config/environment.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import {
  baseImage,
  composeDurationSeconds,
  execForm,
  flagsAndWords,
  instructionsOf,
  isIgnored,
  parseDockerfile,
  parseDockerignore,
  readRepoFile,
  readYaml,
  REPO_ROOT,
  repoPath,
  runsOf,
  stageNamed,
  type Stage,
  type Yaml,
} from './deploy-files.js';

const dockerfile = parseDockerfile(readRepoFile('docker/Dockerfile'));
const finalStage = dockerfile.stages.at(-1)!;
const ignoreRules = parseDockerignore(readRepoFile('.dockerignore'));
const DEFAULT_PORT = loadConfig({}).port;
const KNOWN_VARIABLES = new Set<string>([...ENVIRONMENT_VARIABLE_NAMES, 'SHUTDOWN_TIMEOUT_MS']);

/** A project install that includes devDependencies (a global tool install such as npm itself is not one). */
const isDevInstall = (run: string) =>
  /\b(npm (ci|install|i)|yarn( install)?|pnpm (install|i))\b/.test(run) &&
  !/\s(-g|--global)\b/.test(run) &&
  !/--omit[= ]dev|--production|--only[= ]prod/.test(run);
const isProdInstall = (run: string) => /\bnpm (ci|install)\b.*--omit[= ]dev/.test(run);
const runsBuild = (stage: Stage) =>
  runsOf(dockerfile, stage).some((run) => /\bnpm run build\b/.test(run));
const libc = (image: string) => (/alpine/i.test(image) ? 'musl' : 'glibc');

/** Environment variables a stage sets with ENV (KEY=value form or the legacy `KEY value`). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructionsOf(stage, 'ENV')) {
    const pairs = [...args.matchAll(/(\w+)=("[^"]*"|\S+)/g)];
    if (pairs.length === 0) {
      const [name, ...value] = args.split(' ');
      env[name] = value.join(' ');
    }
    for (const [, name, value] of pairs) env[name] = value.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** COPY instructions of the final stage: source stage (or null for the build context), sources, target. */
function finalCopies() {
  return instructionsOf(finalStage, 'COPY').map(({ args }) => {
    const { flags, words } = flagsAndWords(args);
    const paths = execForm(words.join(' ')) ?? words;
    return { from: flags.from ?? null, sources: paths.slice(0, -1), target: paths.at(-1)! };
  });
}

describe('Dockerfile', () => {
  it('is multi-stage: the TypeScript build happens in a stage that is not the final image', () => {
    assert.ok(dockerfile.stages.length >= 2, `${dockerfile.stages.length} FROM instruction(s)`);
    assert.ok(
      dockerfile.stages.some((stage) => stage !== finalStage && runsBuild(stage)),
      'no build stage runs npm run build',
    );
    assert.ok(!runsBuild(finalStage), 'the final stage compiles TypeScript itself');
  });

  it('runs the final image as a non-root user', () => {
    const users = instructionsOf(finalStage, 'USER');
    assert.ok(users.length > 0, 'the final stage has no USER (it would run as root)');
    const user = users.at(-1)!.args.split(':')[0];
    assert.ok(!['root', '0'].includes(user), `final USER is ${user}`);
  });

  it('checks its health with node fetch against /health/live on the default port', () => {
    const checks = instructionsOf(finalStage, 'HEALTHCHECK');
    assert.equal(checks.length, 1);
    const { words } = flagsAndWords(checks[0].args);
    assert.equal(words[0], 'CMD');
    const command = execForm(words.slice(1).join(' '));
    assert.ok(command, 'HEALTHCHECK CMD is not in exec form');
    assert.equal(command[0], 'node');
    const script = command.join(' ');
    assert.match(script, /fetch\(/);
    assert.match(script, /\/health\/live/);
    assert.match(script, new RegExp(`\\b${DEFAULT_PORT}\\b`));
    assert.doesNotMatch(script, /\b(curl|wget)\b/);
  });

  it('exposes exactly the port the gateway listens on by default', () => {
    const exposed = instructionsOf(finalStage, 'EXPOSE').flatMap(({ args }) => args.split(' '));
    assert.deepEqual(exposed, [String(DEFAULT_PORT)]);
    const env = envOf(finalStage);
    if (env.PORT !== undefined) assert.equal(env.PORT, String(DEFAULT_PORT));
  });

  it('starts node dist/src/main.js, the package start command, compiled from src/main.ts', () => {
    const cmd = instructionsOf(finalStage, 'CMD');
    assert.equal(cmd.length, 1);
    assert.equal(instructionsOf(finalStage, 'ENTRYPOINT').length, 0);
    const command = execForm(cmd[0].args);
    assert.deepEqual(
      command,
      ['node', 'dist/src/main.js'],
      'CMD must be exec form so node gets SIGTERM',
    );
    const pkg = JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, command.join(' '));
    assert.ok(existsSync(repoPath('src/main.ts')));
  });

  it('sets NODE_ENV=production in the final image', () => {
    assert.equal(envOf(finalStage).NODE_ENV, 'production');
  });

  it('ships production dependencies only, installed in a stage with the native-addon toolchain', () => {
    assert.deepEqual(
      instructionsOf(finalStage, 'RUN').filter(
        ({ args }) => /\b(npm|yarn|pnpm)\b/.test(args) && /install|\bci\b/.test(args),
      ),
      [],
      'the final stage installs packages itself',
    );
    const modules = finalCopies().filter(({ sources }) =>
      sources.some((s) => /node_modules\/?$/.test(s)),
    );
    assert.equal(modules.length, 1, 'node_modules is copied exactly once into the final stage');
    assert.ok(modules[0].from, 'node_modules comes from the build context');
    const depsStage = stageNamed(dockerfile, modules[0].from);
    assert.ok(depsStage, `no stage named ${modules[0].from}`);
    const runs = runsOf(dockerfile, depsStage);
    assert.ok(runs.some(isProdInstall), `stage ${depsStage.name} does not run npm ci --omit=dev`);
    assert.deepEqual(
      runs.filter(isDevInstall),
      [],
      `stage ${depsStage.name} installs dev dependencies`,
    );
    for (const tool of ['python3', 'make', 'g++']) {
      assert.ok(
        runs.some((run) => new RegExp(`\\b${tool.replace(/\+/g, '\\+')}(\\s|$)`).test(run)),
        `${tool} not installed`,
      );
    }
  });

  it('compiles better-sqlite3 for the same C library the final image runs on', () => {
    const modules = finalCopies().find(({ sources }) =>
      sources.some((s) => /node_modules\/?$/.test(s)),
    )!;
    const depsImage = baseImage(dockerfile, stageNamed(dockerfile, modules.from!)!);
    const finalImage = baseImage(dockerfile, finalStage);
    assert.doesNotMatch(finalImage, /\$/, 'final base image has an unresolved variable');
    assert.equal(libc(depsImage), libc(finalImage), `${depsImage} vs ${finalImage}`);
    // A maintained LTS: Node 20 reached its end of life in April 2026.
    assert.match(finalImage, /^node:(22|24)[.-]/, 'Node 22 or 24 LTS runtime');
  });

  it('copies dist from the build stage and package.json (its "type": "module" makes dist ESM)', () => {
    const copies = finalCopies();
    const dist = copies.find(({ sources }) => sources.some((s) => /dist\/?$/.test(s)));
    assert.ok(dist?.from, 'dist is not copied from a stage');
    assert.ok(
      runsBuild(stageNamed(dockerfile, dist.from)!),
      `stage ${dist.from} does not run npm run build`,
    );
    assert.ok(
      copies.some(({ from, sources }) => from === null && sources.includes('package.json')),
    );
    assert.equal(JSON.parse(readRepoFile('package.json')).type, 'module');
  });

  it('copies from the build context only files that exist and .dockerignore lets through', () => {
    const workdirs = new Map<Stage, string>();
    let checked = 0;
    for (const stage of dockerfile.stages) {
      for (const instruction of stage.instructions) {
        if (instruction.keyword === 'WORKDIR') workdirs.set(stage, instruction.args);
        if (!['COPY', 'ADD'].includes(instruction.keyword)) continue;
        const { flags, words } = flagsAndWords(instruction.args);
        if (flags.from) continue;
        for (const source of (execForm(words.join(' ')) ?? words).slice(0, -1)) {
          const path = posix.normalize(source);
          assert.ok(
            existsSync(repoPath(path)),
            `COPY source ${path} does not exist in ${REPO_ROOT}`,
          );
          assert.ok(
            !isIgnored(ignoreRules, path),
            `COPY source ${path} is excluded by .dockerignore`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked >= 3, `only ${checked} sources checked`);
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, local data, secrets and VCS out of the context', () => {
    for (const path of [
      'node_modules',
      'node_modules/better-sqlite3/build/Release/x.node',
      'dist',
      'dist/src/main.js',
      '.build',
      '.env',
      'data',
      'data/gateway.sqlite',
      '.git',
      'coverage',
      'test',
    ]) {
      assert.ok(isIgnored(ignoreRules, path), `${path} is sent to the Docker build`);
    }
  });

  it('lets the sources the build needs through', () => {
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'nest-cli.json',
      'src/main.ts',
      'src/migrate.ts',
    ]) {
      assert.ok(!isIgnored(ignoreRules, path), `${path} is excluded`);
    }
  });
});

describe('docker/compose.yaml', () => {
  const compose: Yaml = readYaml('docker/compose.yaml');
  const services: Record<string, Yaml> = compose.services ?? {};
  const gateway = services.gateway;
  const environment = (service: Yaml): Record<string, string> => {
    const env = service?.environment ?? {};
    if (!Array.isArray(env))
      return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')]));
    return Object.fromEntries(
      env.map((line: string) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]),
    );
  };
  const gatewayEnv = environment(gateway);

  it('defines the gateway, PostgreSQL 16, RabbitMQ with its management UI and the provider sandbox', () => {
    assert.deepEqual(Object.keys(services).sort(), ['gateway', 'postgres', 'rabbitmq', 'sandbox']);
    // The gateway's status APIs are the sandbox, which runs the same image with the same credentials.
    const sandboxEnv = environment(services.sandbox);
    assert.equal(services.sandbox.image, gateway.image);
    for (const name of ['NICEPAY_API_URL', 'MCPAYMENT_API_URL', 'S88PAY_API_URL'])
      assert.equal(new URL(gatewayEnv[name]).hostname, 'sandbox', name);
    for (const name of [
      'NICEPAY_MERCHANT_KEY',
      'MCPAYMENT_HASH_KEY',
      'MCPAYMENT_SECRET_UNBOUND_ID',
      'S88PAY_API_KEY',
    ])
      assert.equal(sandboxEnv[name], gatewayEnv[name], name);
    assert.match(services.postgres.image, /^postgres:16(\b|[.-])/);
    assert.match(services.rabbitmq.image, /^rabbitmq:\d+(\.\d+)*-management/);
    const rabbitPorts = (services.rabbitmq.ports ?? []).map((p: unknown) =>
      String(p).split(':').at(-1),
    );
    assert.ok(
      rabbitPorts.includes('5672') && rabbitPorts.includes('15672'),
      `rabbitmq ports ${rabbitPorts}`,
    );
  });

  it('has only the top-level keys Compose v1 (Debian docker-compose 1.29) accepts: no `name:`', () => {
    const v1 = new Set(['services', 'volumes', 'networks', 'configs', 'secrets']);
    const refused = Object.keys(compose).filter((key) => !v1.has(key) && !key.startsWith('x-'));
    assert.deepEqual(refused, []);
  });

  it('is valid for `docker-compose config` (.ci/run installs Debian docker-compose)', (t) => {
    let version: string;
    try {
      version = execFileSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
    } catch {
      if (process.env.CI === 'true') assert.fail('CI must validate the file with docker-compose');
      t.skip('no docker-compose on this machine (`apt-get install -y docker-compose`)');
      return;
    }
    t.diagnostic(`docker-compose ${version.trim()}`);
    // Throws, with the reason on stderr, when the file is invalid; no Docker engine is needed.
    const rendered = execFileSync(
      'docker-compose',
      ['-f', repoPath('docker/compose.yaml'), 'config'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.match(rendered, /^services:/m);
  });

  it('builds the gateway from the repository root with docker/Dockerfile', () => {
    const context = posix.join('docker', gateway.build.context);
    assert.equal(posix.normalize(context), '.');
    assert.equal(gateway.build.dockerfile, 'docker/Dockerfile');
    assert.ok(existsSync(repoPath(context, gateway.build.dockerfile)));
  });

  it('publishes the gateway on its listening port', () => {
    const port = gatewayEnv.PORT ?? String(DEFAULT_PORT);
    const containerPorts = (gateway.ports ?? []).map((p: unknown) =>
      typeof p === 'object' && p
        ? String((p as { target: unknown }).target)
        : String(p).split(':').at(-1),
    );
    assert.deepEqual(containerPorts, [String(DEFAULT_PORT)]);
    assert.equal(port, String(DEFAULT_PORT));
  });

  it('sets only variables the gateway reads, and a configuration the gateway accepts', () => {
    const unknown = Object.keys(gatewayEnv).filter((name) => !KNOWN_VARIABLES.has(name));
    assert.deepEqual(unknown, []);
    const config = loadConfig(gatewayEnv);
    assert.equal(config.database.type, 'postgres');
    assert.equal(config.environment, 'production');
  });

  it('points DATABASE_URL at the postgres service with its credentials', () => {
    const url = new URL(gatewayEnv.DATABASE_URL);
    const postgres = environment(services.postgres);
    assert.equal(url.hostname, 'postgres');
    assert.equal(url.port || '5432', '5432');
    assert.equal(url.username, postgres.POSTGRES_USER);
    assert.equal(url.password, postgres.POSTGRES_PASSWORD);
    assert.equal(url.pathname, `/${postgres.POSTGRES_DB ?? postgres.POSTGRES_USER}`);
  });

  it('points AMQP_URL at the rabbitmq service with a user allowed to connect remotely', () => {
    const url = new URL(gatewayEnv.AMQP_URL);
    const rabbit = environment(services.rabbitmq);
    assert.equal(url.hostname, 'rabbitmq');
    assert.equal(url.port || '5672', '5672');
    // RabbitMQ's built-in guest user is refused on anything but localhost.
    assert.notEqual(url.username || 'guest', 'guest');
    assert.equal(url.username, rabbit.RABBITMQ_DEFAULT_USER);
    assert.equal(url.password, rabbit.RABBITMQ_DEFAULT_PASS);
  });

  it('health-checks every service and starts the gateway only once its dependencies are healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(
        Array.isArray(service.healthcheck?.test) || typeof service.healthcheck?.test === 'string',
        `${name} has no healthcheck`,
      );
    }
    assert.match(JSON.stringify(gateway.healthcheck.test), /\/health\/live/);
    assert.deepEqual(gateway.depends_on, {
      postgres: { condition: 'service_healthy' },
      rabbitmq: { condition: 'service_healthy' },
    });
  });

  it('gives the gateway longer to stop than its drain timeout', () => {
    const drainSeconds = Number(gatewayEnv.SHUTDOWN_TIMEOUT_MS ?? 20_000) / 1000;
    // Docker's default stop timeout is 10 s.
    const grace =
      gateway.stop_grace_period === undefined
        ? 10
        : composeDurationSeconds(gateway.stop_grace_period);
    assert.ok(grace > drainSeconds, `stop_grace_period ${grace}s <= drain ${drainSeconds}s`);
  });
});
