/**
 * `npm run operator-key -- <name> [viewer|operator]`: a new random key for a named operator and
 * the line of the operators file that holds its SHA-256. The key is printed once; give it to the
 * operator, keep only the line.
 */
import { createHash, randomBytes } from 'node:crypto';

const [name, role = 'viewer'] = process.argv.slice(2);
if (
  !name ||
  !/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/.test(name) ||
  !/^(viewer|operator)$/.test(role)
) {
  process.stderr.write('usage: npm run operator-key -- <name> [viewer|operator]\n');
  process.exit(2);
}
const key = randomBytes(32).toString('base64url');
const digest = createHash('sha256').update(key, 'utf8').digest('hex');
process.stdout.write(
  `key for ${name} (give it to them; it is not stored):\n  ${key}\n` +
    `line for OPERATORS_FILE (under operators:):\n  - { name: ${name}, role: ${role}, keySha256: ${digest} }\n`,
);
