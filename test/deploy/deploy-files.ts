/**
 * Helpers for the deployment-file tests: find the repository, read its files, parse a Dockerfile
 * into stages and instructions, match paths against .dockerignore, read YAML manifests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root: the nearest ancestor of this file holding package.json and docker/. */
export const REPO_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'docker'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repository root not found');
    dir = parent;
  }
})();

export const repoPath = (...parts: string[]): string => resolve(REPO_ROOT, ...parts);
export const readRepoFile = (...parts: string[]): string =>
  readFileSync(repoPath(...parts), 'utf8');

// --- YAML ---------------------------------------------------------------------------------

// Manifests are free-form YAML: tests walk them as loosely typed trees.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Yaml = any;

/** Every document of a YAML file, as plain JS values; throws on a YAML error. */
export function readYamlDocuments(...parts: string[]): Yaml[] {
  const documents = parseAllDocuments(readRepoFile(...parts));
  if (!Array.isArray(documents)) return [];
  return documents
    .map((document) => {
      if (document.errors.length > 0)
        throw new Error(`${parts.join('/')}: ${document.errors[0].message}`);
      return document.toJS() as Yaml;
    })
    .filter((value) => value !== null && value !== undefined);
}

export function readYaml(...parts: string[]): Yaml {
  const documents = readYamlDocuments(...parts);
  if (documents.length !== 1)
    throw new Error(`${parts.join('/')}: expected one YAML document, got ${documents.length}`);
  return documents[0];
}

// --- Dockerfile ---------------------------------------------------------------------------

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  index: number;
  name: string | null;
  /** The FROM reference as written, with ARG defaults substituted. */
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

function substitute(text: string, args: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string, bare: string) => args[braced ?? bare] ?? whole,
  );
}

/** Logical instructions: comments dropped, backslash continuations joined. */
export function dockerInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && buffer === '')) return;
    if (buffer === '') start = index + 1;
    const continued = /\\\s*$/.test(raw);
    buffer += `${continued ? raw.replace(/\\\s*$/, '') : raw} `;
    if (continued) return;
    const match = /^\s*(\w+)\s*(.*?)\s*$/s.exec(buffer);
    if (match)
      instructions.push({
        keyword: match[1].toUpperCase(),
        args: match[2].replace(/\s+/g, ' '),
        line: start,
      });
    buffer = '';
  });
  return instructions;
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of dockerInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(' ').filter((word) => !word.startsWith('--'));
      const asIndex = words.findIndex((word) => word.toLowerCase() === 'as');
      stages.push({
        index: stages.length,
        name: asIndex >= 0 ? words[asIndex + 1] : null,
        from: substitute(words[0], globalArgs),
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name, value = ''] = instruction.args.split('=', 2);
        globalArgs[name.trim()] = value.trim().replace(/^"(.*)"$/, '$1');
      }
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** `--flag=value` options at the start of an instruction, and the words after them. */
export function flagsAndWords(args: string): { flags: Record<string, string>; words: string[] } {
  const flags: Record<string, string> = {};
  const words = args.split(' ').filter(Boolean);
  while (words.length > 0 && words[0].startsWith('--')) {
    const [name, value = 'true'] = words.shift()!.slice(2).split('=', 2);
    flags[name] = value;
  }
  return { flags, words };
}

/** The command of an exec-form (`["a", "b"]`) instruction; null for the shell form. */
export function execForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : null;
}

export const instructionsOf = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword);

/** The stage a `FROM <name>` or `COPY --from=<name>` refers to, by name or index. */
export function stageNamed(dockerfile: Dockerfile, reference: string): Stage | undefined {
  return dockerfile.stages.find(
    (stage) => stage.name === reference || String(stage.index) === reference,
  );
}

/** A stage followed by the stages it is built FROM, up to the one based on an image. */
export function stageChain(dockerfile: Dockerfile, stage: Stage): Stage[] {
  const chain = [stage];
  for (
    let parent = stageNamed(dockerfile, stage.from);
    parent;
    parent = stageNamed(dockerfile, parent.from)
  ) {
    if (chain.includes(parent)) throw new Error(`FROM cycle at stage ${parent.name}`);
    chain.push(parent);
  }
  return chain;
}

/** The image a stage ultimately starts from. */
export const baseImage = (dockerfile: Dockerfile, stage: Stage): string =>
  stageChain(dockerfile, stage).at(-1)!.from;

/** Every RUN of a stage and the stages below it. */
export const runsOf = (dockerfile: Dockerfile, stage: Stage): string[] =>
  stageChain(dockerfile, stage).flatMap((s) => instructionsOf(s, 'RUN').map((run) => run.args));

// --- .dockerignore ------------------------------------------------------------------------

interface IgnoreRule {
  negate: boolean;
  pattern: RegExp;
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        source += '(.*/)?';
        i++;
      } else source += '.*';
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern matching a directory excludes everything inside it.
  return new RegExp(`^${source}(/.*)?$`);
}

/** Parses .dockerignore: one pattern per line, `#` comments, `!` re-includes; last match wins. */
export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const path = (negate ? line.slice(1) : line)
        .trim()
        .replace(/^\/+|\/+$/g, '')
        .replace(/^\.\//, '');
      return { negate, pattern: globToRegExp(path) };
    });
}

export function isIgnored(rules: IgnoreRule[], path: string): boolean {
  const normalized = path.replace(/^\.\//, '').replace(/\/+$/, '');
  let ignored = false;
  for (const rule of rules) if (rule.pattern.test(normalized)) ignored = !rule.negate;
  return ignored;
}

// --- Kubernetes quantities -----------------------------------------------------------------

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes resource quantity ("250m", "384Mi", "1") as a number (cores or bytes). */
export function quantity(value: unknown): number {
  const match = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(String(value));
  if (!match) throw new Error(`not a quantity: ${String(value)}`);
  const factor = BINARY[match[2]] ?? DECIMAL[match[2]];
  if (factor === undefined) throw new Error(`unknown quantity suffix: ${String(value)}`);
  return Number(match[1]) * factor;
}

/** A Compose duration ("30s", "1m30s", "500ms") in seconds. */
export function composeDurationSeconds(value: unknown): number {
  const text = String(value);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6 };
  let total = 0;
  let rest = text;
  for (;;) {
    const match = /^(\d+(?:\.\d+)?)(ms|us|h|m|s)/.exec(rest);
    if (!match) break;
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  if (rest !== '' || text === '') throw new Error(`not a duration: ${text}`);
  return total;
}
