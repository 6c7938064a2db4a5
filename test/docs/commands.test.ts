/**
 * Every command in README.md and docs/*.md is exercised: the ones that talk to a gateway are run
 * here, as written, against a gateway with the demo configuration (only the address differs);
 * every other one must name where a test or .ci/run runs it. Links and file paths must exist.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoEnvironment, projectRoot } from '../../src/config/startup-environment.js';
import { deleteTopology, EventTap, uniqueExchange } from '../support/broker.js';
import { freePort } from '../support/gateway-process.js';
import { type RunningGateway, startGateway } from '../support/gateway.js';

const ROOT = projectRoot();
const DOCUMENTS = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((name) => `docs/${name}`)]
  .filter((file) => file.endsWith('.md'))
  .sort();

interface Block {
  file: string;
  language: string;
  text: string;
}

function codeBlocks(file: string): Block[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^ *```(\w*)\n([\s\S]*?)^ *```/gm)].map((match) => ({
    file,
    language: match[1],
    text: match[2].replace(/^ {0,3}/gm, ''),
  }));
}

/** The commands of a shell block: continuations joined, comments and blank lines dropped. */
function commands(block: Block): string[] {
  return block.text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const SHELL_BLOCKS = DOCUMENTS.flatMap(codeBlocks).filter((b) => /^(bash|sh)$/.test(b.language));
const ALL_COMMANDS = SHELL_BLOCKS.flatMap((block) =>
  commands(block).map((command) => ({ file: block.file, command })),
);

/**
 * Commands not run by this file, and where they are exercised. `where` must exist and mention
 * `evidence`, so the list cannot point at a test that does not run the thing.
 */
const EXERCISED_ELSEWHERE: Array<{ command: RegExp; where: string; evidence: string }> = [
  { command: /^npm ci( && npm start)?$/, where: '.ci/run', evidence: 'npm ci' },
  { command: /^npm start$/, where: 'test/startup.test.ts', evidence: 'DEMO CONFIGURATION' },
  { command: /^npm test$/, where: '.ci/run', evidence: 'npm test' },
  { command: /^\.ci\/run$/, where: '.ci/run', evidence: 'npm test' },
  { command: /^npm run events( -- .*)?$/, where: 'test/startup.test.ts', evidence: "'--json'" },
  { command: /^npm run simulate -- /, where: 'test/startup.test.ts', evidence: 'SIMULATE_JS' },
  {
    command: /^npm run (build|openapi|openapi:check)$/,
    where: 'test/contract/openapi.test.ts',
    evidence: 'generateOpenApi',
  },
  { command: /^npm run (lint|format:check)$/, where: 'package.json', evidence: '"lint"' },
  {
    command: /^npx tsc -p tsconfig\.json$/,
    where: 'package.json',
    evidence: 'tsc -p tsconfig.json',
  },
  {
    command: /^node --test .*dist\/test\/unit\/config\.test\.js$/,
    where: 'test/unit/config.test.ts',
    evidence: 'describe(',
  },
  {
    command: /^cp \.env\.example \.env/,
    where: 'test/unit/startup-environment.test.ts',
    evidence: ".env'",
  },
  // Needs a Docker engine or a cluster, which the test machines do not have: the files they use
  // are linted by these tests instead.
  {
    command: /^docker (build|compose) /,
    where: 'test/deploy/container.test.ts',
    evidence: 'compose',
  },
  { command: /^kubectl /, where: 'test/deploy/kubernetes.test.ts', evidence: 'kustomization' },
  // Installs or starts system services (what .ci/run does when they are missing).
  {
    command: /^(apt-get install|rabbitmq-server -detached)/,
    where: '.ci/run',
    evidence: 'rabbitmq-server -detached',
  },
  { command: /^createdb /, where: 'test/startup.test.ts', evidence: 'createdb' },
  {
    command: /^npm run (bench|test:faults|test:fuzz)$/,
    where: 'package.json',
    evidence: '"test:faults"',
  },
];

/** Documents being written at the same time as this one (temporary: empty once they exist). */
const NOT_YET_WRITTEN = new Set<string>([]);

/** Blocks run here: the ones that call the gateway or compute a signature. */
const runHere = (block: Block) => /curl |sha256sum/.test(block.text);

describe('README and docs', () => {
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

  it('every `npm run <script>` named anywhere exists in package.json', () => {
    for (const file of DOCUMENTS) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, script] of text.matchAll(/npm run ([\w:-]+)/g)) {
        assert.ok(script in scripts, `${file}: npm run ${script} is not a script`);
      }
    }
  });

  it('every relative link and every repository path in backticks exists', () => {
    const headings = (file: string) =>
      new Set(
        [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
          m[1]
            .trim()
            .toLowerCase()
            .replace(/[^\w\- ]/g, '')
            .replace(/ /g, '-'),
        ),
      );
    for (const file of DOCUMENTS) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#');
        const resolved = path ? resolve(ROOT, dirname(file), path) : join(ROOT, file);
        if (NOT_YET_WRITTEN.has(resolved.slice(ROOT.length + 1)) && !existsSync(resolved)) continue;
        assert.ok(existsSync(resolved), `${file}: link to ${target} (no such file)`);
        if (anchor && resolved.endsWith('.md')) {
          const relativeFile = resolved.slice(ROOT.length + 1);
          assert.ok(
            headings(relativeFile).has(anchor),
            `${file}: link to ${target} (no such heading)`,
          );
        }
      }
      for (const [, path] of text.matchAll(
        /`((?:src|test|docs|docker|openapi|examples|bench|scripts|\.ci)\/[\w./-]+|\.env\.example)`/g,
      )) {
        if (path.includes('<')) continue;
        assert.ok(
          existsSync(join(ROOT, path.replace(/\/$/, ''))),
          `${file}: \`${path}\` does not exist`,
        );
      }
    }
  });

  it('every shell command is run here or names the test that runs it', () => {
    assert.ok(ALL_COMMANDS.length > 20, 'the documents have commands');
    const ranHere = new Set(SHELL_BLOCKS.filter(runHere).flatMap(commands));
    for (const { file, command } of ALL_COMMANDS) {
      if (ranHere.has(command)) continue;
      const entry = EXERCISED_ELSEWHERE.find((e) => e.command.test(command));
      assert.ok(entry, `${file}: \`${command}\` is neither run by a test nor listed here`);
      const where = readFileSync(join(ROOT, entry.where), 'utf8');
      assert.ok(where.includes(entry.evidence), `${entry.where} does not run \`${command}\``);
    }
  });

  it('no comment in a shell block is cut off by a blank line from what it introduces', () => {
    for (const block of SHELL_BLOCKS) {
      const lines = block.text.trimEnd().split('\n');
      lines.forEach((line, i) => {
        assert.ok(
          !(line.trimStart().startsWith('#') && lines[i + 1]?.trim() === ''),
          `${block.file}: a blank line follows \`${line.trim()}\``,
        );
      });
    }
  });

  describe('the gateway commands, run as written against a demo-configured gateway', () => {
    let gateway: RunningGateway;
    let tap: EventTap;
    let dir: string;
    let sandboxPort: number;
    const exchange = uniqueExchange();

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gw-docs-'));
      tap = await EventTap.bind(exchange);
      // The demo verifies NICEPAY, MCPayment and S88Pay with its embedded sandbox: run it on a
      // free port (the documented :4010 is replaced in the scripts, like the gateway's :3000).
      sandboxPort = await freePort();
      const demo = Object.fromEntries(
        Object.entries(demoEnvironment()!).map(([name, value]) => [
          name,
          value.replaceAll('localhost:4010', `localhost:${sandboxPort}`),
        ]),
      );
      gateway = await startGateway({
        ...demo,
        NODE_ENV: 'test',
        EVENTS_EXCHANGE: exchange,
        SQLITE_PATH: join(dir, 'gw.sqlite'),
        SANDBOX_EMBEDDED: 'true',
        SANDBOX_PORT: String(sandboxPort),
      });
      await gateway.brokerReady();
    });
    after(async () => {
      await gateway?.close();
      await tap?.close();
      await deleteTopology(exchange).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    // Asynchronous: the gateway under test runs in this process and must keep answering.
    const bash = async (script: string) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(
          'bash',
          ['-euo', 'pipefail', '-c', script],
          { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 },
        );
        return { status: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return {
          status: failed.code ?? 1,
          stdout: failed.stdout ?? '',
          stderr: failed.stderr ?? '',
        };
      }
    };

    it('each block with curl or sha256sum succeeds (the documented port replaced by the test gateway)', async () => {
      const blocks = SHELL_BLOCKS.filter(runHere);
      assert.ok(blocks.length >= 3, 'providers, development and operations have such blocks');
      // The providers block first: the admin examples look up the callback it stores.
      blocks.sort(
        (a, b) => Number(b.file.includes('providers')) - Number(a.file.includes('providers')),
      );
      const port = new URL(gateway.url).port;
      for (const block of blocks) {
        const script = block.text
          .replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`)
          .replaceAll('localhost:4010', `localhost:${sandboxPort}`);
        const result = await bash(script);
        assert.equal(
          result.status,
          0,
          `${block.file}:\n${block.text}\n${(result.stdout + result.stderr).slice(-2000)}`,
        );
        for (const answer of result.stdout.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)) {
          assert.ok(Number(answer[1]) < 400, `${block.file}: ${answer[0]}`);
        }
        const refused = /\{"statusCode":\s*[45]\d\d[^}]*\}/.exec(result.stdout);
        assert.equal(refused, null, `${block.file}: ${refused?.[0]}`);
        // The admin examples look up the documented callback once its inquiry confirmed it.
        if (block.text.includes('/callbacks/nicepay')) await tap.waitFor(1);
      }
      // The documented NICEPAY callback became its event.
      await tap.waitFor(1);
      assert.ok(tap.messages.some((m) => m.fields.routingKey === 'payment.succeeded.nicepay'));
    });

    it('the documented merchantToken is what the documented sha256sum prints', async () => {
      const providers = SHELL_BLOCKS.filter((b) => b.file === 'docs/providers.md');
      const token = /merchantToken=([0-9a-f]{64})/.exec(providers.map((b) => b.text).join())?.[1];
      const printed = (await bash(providers.find((b) => b.text.includes('sha256sum'))!.text))
        .stdout;
      assert.ok(token);
      assert.equal(printed.split(/\s/)[0], token);
    });
  });
});
