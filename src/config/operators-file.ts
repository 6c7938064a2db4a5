import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** Who may use the admin API and the console, and what they may do. */
export type OperatorRole = 'viewer' | 'operator';

/** The name the shared ADMIN_API_KEY acts under (reserved in the operators file). */
export const SHARED_KEY_OPERATOR = 'admin';

/**
 * The operators file (OPERATORS_FILE), YAML or JSON:
 *
 *     operators:
 *       - name: alice
 *         role: operator
 *         keySha256: 9f86d0…   # SHA-256 (hex) of alice's key; `npm run operator-key` makes both
 *       - name: carol@example.com
 *         role: viewer          # no key: only through the trusted proxy's identity header
 *
 * Keys are stored as SHA-256, not scrypt: each key is 32 random bytes (base64url) that
 * `npm run operator-key` generates, so guessing one from its digest is as hard as guessing the key,
 * and a deliberately slow hash on every admin request would only hand a caller a CPU lever.
 * Messages name the file, the entry and the field, never a value.
 */
export interface OperatorEntry {
  name: string;
  role: OperatorRole;
  /** Lowercase hex SHA-256 of the key; null: the operator signs in through the proxy only. */
  keySha256: string | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const DIGEST = /^[0-9a-f]{64}$/;
const FIELDS = new Set(['name', 'role', 'keySha256']);

export function readOperatorsFile(path: string): {
  operators: OperatorEntry[];
  problems: string[];
} {
  let data: unknown;
  try {
    data = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      operators: [],
      problems: [`${path}: ${code ? `cannot be read (${code})` : 'is not valid YAML or JSON'}`],
    };
  }
  return parseOperators(path, data ?? {});
}

export function parseOperators(
  path: string,
  data: unknown,
): { operators: OperatorEntry[]; problems: string[] } {
  const list = (data as { operators?: unknown }).operators;
  const extra = Object.keys(data as object).filter((key) => key !== 'operators');
  if (typeof data !== 'object' || Array.isArray(data) || !Array.isArray(list) || extra.length) {
    return {
      operators: [],
      problems: [`${path}: must be a mapping with one field, operators: a list of operators`],
    };
  }
  const problems: string[] = [];
  const operators: OperatorEntry[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  list.forEach((item: unknown, index) => {
    const where = `${path}: operators[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${where}: must be a mapping with name, role and keySha256`);
      return;
    }
    const entry = item as Record<string, unknown>;
    for (const key of Object.keys(entry))
      if (!FIELDS.has(key)) problems.push(`${where}: unknown field ${key}`);
    const { name, role } = entry;
    const key = entry.keySha256 ?? null;
    const before = problems.length;
    if (typeof name !== 'string' || !NAME.test(name))
      problems.push(
        `${where}.name: must be 1-64 letters, digits, dots, @, +, dashes or underscores`,
      );
    else if (name.toLowerCase() === SHARED_KEY_OPERATOR)
      problems.push(`${where}.name: "${SHARED_KEY_OPERATOR}" is the shared ADMIN_API_KEY's name`);
    else if (names.has(name.toLowerCase())) problems.push(`${where}.name: listed twice`);
    if (role !== 'viewer' && role !== 'operator')
      problems.push(`${where}.role: must be viewer or operator`);
    if (key !== null && (typeof key !== 'string' || !DIGEST.test(key)))
      problems.push(`${where}.keySha256: must be 64 lowercase hex digits (SHA-256 of the key)`);
    else if (key !== null && digests.has(key))
      problems.push(`${where}.keySha256: the same key as another operator`);
    if (problems.length > before) return;
    names.add((name as string).toLowerCase());
    if (key !== null) digests.add(key as string);
    operators.push({ name: name as string, role: role as OperatorRole, keySha256: key as string });
  });
  return { operators: problems.length ? [] : operators, problems };
}
