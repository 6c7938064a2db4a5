import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jsonbRowColumns, jsonbRows } from '../../src/persistence/sql-dialect.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

/** Random text drawn mostly from characters that quoting, escaping or encoding treat specially. */
function awkwardText(): string {
  const alphabet = [
    '"',
    '\\',
    '{',
    '}',
    ',',
    ' ',
    '\t',
    '\n',
    '\u0001',
    'N',
    'é',
    '日',
    '😀',
    "'",
    '/',
    'u',
  ];
  let text = '';
  for (let n = randomInt(0, 12); n > 0; n -= 1) text += alphabet[randomInt(alphabet.length)];
  return text;
}

/**
 * The batched writes send their rows as one jsonb parameter (jsonbRows) and read each row's
 * columns with jsonbRowColumns: PostgreSQL must read back exactly the texts given.
 */
describe('the batched writes’ jsonb rows (postgres)', () => {
  let db: TestDatabase;
  before(async () => (db = await createTestDatabase('postgres')));
  after(() => db.drop());

  /** The rows as PostgreSQL reads them, in order. */
  async function readBack(rows: unknown[][], width: number): Promise<Array<Array<string | null>>> {
    const names = Array.from({ length: width }, (_, j) => `c${j}`);
    const read = await db.query<Record<string, string | null>>(
      `SELECT ${jsonbRowColumns('r', names)}
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(r, n) ORDER BY n`,
      [jsonbRows(rows)],
    );
    return read.map((row) => names.map((name) => row[name]));
  }

  it('reads back every text unchanged: quotes, backslashes, braces, control characters, NULL as text, empty', async () => {
    const rows = [
      ['a "quoted" word', 'back\\slash', '{braces}', 'a, comma'],
      ['NULL', '', ' spaced ', 'null'],
      ['\\"', '"\\', '\\u0041 is not A', '""'],
      ['é ✓ 日本 😀', '{"json":[1,null]}', 'line\nbreak\r', 'tab\there\u0007'],
    ];
    assert.deepEqual(await readBack(rows, 4), rows);
  });

  it('null and undefined become SQL NULL', async () => {
    assert.deepEqual(
      await readBack(
        [
          [null, 'x'],
          ['y', undefined],
        ],
        2,
      ),
      [
        [null, 'x'],
        ['y', null],
      ],
    );
  });

  it('a lone surrogate (from a JSON body’s \\ud800 escape) is stored as U+FFFD, the rest of the text kept', async () => {
    const lone = JSON.parse('"ref-\\ud800-end"') as string;
    assert.equal(lone.isWellFormed(), false);
    assert.deepEqual(await readBack([[lone, 'ok 😀']], 2), [['ref-\ufffd-end', 'ok 😀']]);
  });

  it('reads back 2,000 random texts of special characters', async () => {
    const rows = Array.from({ length: 500 }, () => [
      awkwardText(),
      awkwardText(),
      awkwardText(),
      awkwardText(),
    ]);
    assert.deepEqual(await readBack(rows, 4), rows);
  });

  it('an empty batch is an empty array', async () => {
    assert.equal(jsonbRows([]), '[]');
    assert.deepEqual(await readBack([], 2), []);
  });
});
