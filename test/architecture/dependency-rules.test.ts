/**
 * The architecture check (.dependency-cruiser.cjs, run by `npm run lint`) on small trees of its
 * own: it must fail on each kind of break it exists for, and pass a tree that keeps the rules —
 * so a rule that stopped matching (a renamed folder, a broken pattern) cannot pass silently.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { projectRoot } from '../../src/config/startup-environment.js';

const ROOT = projectRoot();
const made: string[] = [];

/** A project folder with the given src/ files and the gateway's compiler settings. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'arch-rules-'));
  made.push(dir);
  const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function cruise(dir: string): { status: number | null; output: string } {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      '--config',
      join(ROOT, '.dependency-cruiser.cjs'),
      '--output-type',
      'err',
      'src',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('architecture rules (.dependency-cruiser.cjs)', () => {
  it('pass a tree whose imports point down and name providers only in the registry', () => {
    const { status, output } = cruise(
      tree({
        'src/common/decimal.ts': 'export const one = 1;\n',
        'src/config/limits.ts':
          "import { one } from '../common/decimal.js';\nexport const two = one + 1;\n",
        'src/ingest/pipeline.ts':
          "import { two } from '../config/limits.js';\nexport const three = two + 1;\n",
        'src/providers/alpha/alpha.plugin.ts':
          "import { three } from '../../ingest/pipeline.js';\nexport const alpha = three;\n",
        'src/providers/index.ts':
          "import { alpha } from './alpha/alpha.plugin.js';\nexport const all = [alpha];\n",
        'src/main.ts':
          "import { all } from './providers/index.js';\nexport const count = all.length;\n",
      }),
    );
    assert.equal(status, 0, output);
    assert.match(output, /no dependency violations found/);
  });

  it('fail on a loop, an upward import, a provider importing another, a provider named outside the registry and a folder without a layer', () => {
    const { status, output } = cruise(
      tree({
        // common → config is upward, and config → common closes a loop.
        'src/common/decimal.ts':
          "import { two } from '../config/limits.js';\nexport const one = two - 1;\n",
        'src/config/limits.ts':
          "import { one } from '../common/decimal.js';\nexport const two = one + 1;\n",
        // ingest names a provider: upward, and outside src/providers/index.ts.
        'src/ingest/pipeline.ts':
          "import { beta } from '../providers/beta/beta.plugin.js';\nexport const three = beta;\n",
        'src/providers/alpha/alpha.plugin.ts':
          "import { beta } from '../beta/beta.plugin.js';\nexport const alpha = beta;\n",
        'src/providers/beta/beta.plugin.ts': 'export const beta = 2;\n',
        'src/extras/helper.ts':
          "import { beta } from '../providers/beta/beta.plugin.js';\nexport const four = beta;\n",
      }),
    );
    assert.notEqual(status, 0, output);
    for (const rule of [
      'no-cycle',
      'upward-from-common',
      'upward-from-ingest',
      'provider-to-provider',
      'provider-outside-registry',
      'unplaced-folder',
    ]) {
      assert.match(output, new RegExp(`error ${rule}:`), `${rule} not reported:\n${output}`);
    }
  });
});
