#!/usr/bin/env node
// Runs `npm run build` only when a file under src/ is newer than its compiled dist/src/ file (or
// has none), so `npm start`, `npm run simulate` and `npm run events` start at once when the build
// is current instead of recompiling every time.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

/** The first source under `dir`/src whose compiled file is missing or older, else null. */
export function staleSource(dir = root) {
  for (const source of sources(join(dir, 'src'))) {
    const compiled = join(dir, 'dist', relative(dir, source)).replace(/\.ts$/, '.js');
    if (mtime(compiled) < mtime(source)) return relative(dir, source);
  }
  return null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stale = staleSource();
  if (stale !== null) {
    process.stderr.write(`Building: ${stale} changed since the last build…\n`);
    const result = spawnSync('npm', ['run', 'build', '--silent'], {
      cwd: root,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    process.exit(result.status ?? 1);
  }
}
