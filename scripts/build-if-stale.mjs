#!/usr/bin/env node
// Runs `npm run build` only when a file under src/ is newer than its compiled dist/src/ file (or
// has none), so `npm start`, `npm run simulate` and `npm run events` start at once when the build
// is current instead of recompiling every time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** Written after each build this script runs: the build is at least as new as this. */
const STAMP = join('dist', '.build-stamp');

/**
 * The first source under `dir`/src changed since its compiled file was written and since the last
 * build this script ran (tsc builds incrementally: a touched but unchanged file is not re-emitted,
 * so its .js can stay older than it), else null. A source never compiled is always stale.
 */
export function staleSource(dir = root) {
  const built = mtime(join(dir, STAMP));
  for (const source of sources(join(dir, 'src'))) {
    const compiled = mtime(join(dir, 'dist', relative(dir, source)).replace(/\.ts$/, '.js'));
    if (compiled < 0 || Math.max(compiled, built) < mtime(source)) return relative(dir, source);
  }
  return null;
}

/**
 * Why `dir` must be built before it runs, as the line printed before building, else null: no
 * build at all (a fresh clone: no dist/src), or the first source changed since the last build.
 */
export function buildReason(dir = root) {
  const stale = staleSource(dir);
  if (stale === null) return null;
  if (mtime(join(dir, 'dist', 'src')) < 0) return 'No build yet; building…';
  return `Building: ${stale} changed since the last build…`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const reason = buildReason();
  if (reason !== null) {
    process.stderr.write(`${reason}\n`);
    const result = spawnSync('npm', ['run', 'build', '--silent'], {
      cwd: root,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    if (result.status === 0) {
      mkdirSync(join(root, 'dist'), { recursive: true });
      writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);
    }
    process.exit(result.status ?? 1);
  }
}
