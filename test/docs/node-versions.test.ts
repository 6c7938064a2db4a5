/**
 * docs/development.md#node-versions names every package of package-lock.json that refuses the
 * oldest Node the project supports (package.json engines): each is an `EBADENGINE` warning a
 * newcomer on Node 20 reads during `npm ci`, and the README sends them to that table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../../src/config/startup-environment.js';

const ROOT = projectRoot();
// npm's own range rules; semver is in node_modules with every install (autocannon, node-abi, …).
const semver = createRequire(join(ROOT, 'package.json'))('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

interface Lock {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
}

function json<T>(file: string): T {
  return JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as T;
}

describe('Node versions', () => {
  it('every package that refuses the oldest supported Node is explained in docs/development.md', () => {
    const oldest = semver.minVersion(
      json<{ engines: { node: string } }>('package.json').engines.node,
    )!.version;
    const refusing = Object.entries(json<Lock>('package-lock.json').packages)
      .filter(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return path !== '' && range !== undefined && !semver.satisfies(oldest, range);
      })
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    assert.ok(refusing.length > 0, `no package refuses Node ${oldest}: remove the table`);

    const doc = readFileSync(join(ROOT, 'docs', 'development.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Node versions')).split(/\n## /)[0];
    const named = [...section.matchAll(/^\|[^|]*\|/gm)].flatMap((row) =>
      [...row[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]),
    );
    const explained = (name: string) =>
      named.some((entry) =>
        entry.endsWith('/*') ? name.startsWith(entry.slice(0, -1)) : entry === name,
      );
    assert.deepEqual(
      [...new Set(refusing.filter((name) => !explained(name)))],
      [],
      `packages that refuse Node ${oldest} and are not in docs/development.md#node-versions`,
    );
  });
});
