/**
 * Database errors never reach a log line with a value: not the statement's parameters, not a
 * value the message repeats, not the driver's detail. Real PostgreSQL errors, wrapped as TypeORM
 * wraps them, through the helpers and the HTTP error filter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { isDataException, safeErrorFields, safeErrorText } from '../../src/common/safe-error.js';
import { ErrorFilter, errorBody } from '../../src/common/error.filter.js';
import { POSTGRES_ADMIN_URL } from '../support/databases.js';

const SECRET = 'budi@example.com 081234567890';

async function pgError(sql: string, parameters: unknown[]): Promise<QueryFailedError> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql, parameters);
  } catch (error) {
    return new QueryFailedError(sql, parameters, error as Error);
  } finally {
    await client.end();
  }
  throw new Error('the statement did not fail');
}

describe('database errors are logged without values', () => {
  it('keeps the code and the shape of the message, drops parameters, quoted values and detail', async () => {
    const errors = [
      await pgError('SELECT $1::uuid', [SECRET]),
      await pgError('SELECT $1::text', [`${SECRET}\u0000`]),
      await pgError('SELECT $1::int', [SECRET]),
      await pgError('SELECT $1::date', [SECRET]),
    ];
    for (const error of errors) {
      assert.ok(JSON.stringify(error).includes('0812') || String(error.message).includes('0812'));
      const fields = JSON.stringify(safeErrorFields(error));
      const text = safeErrorText(error);
      for (const shown of [fields, text]) {
        assert.doesNotMatch(shown, /081234567890|budi@example/, shown);
      }
      assert.match(text, /^QueryFailedError 22/, text);
      assert.ok(isDataException(error));
    }
    assert.match(safeErrorText(errors[0]), /invalid input syntax for type uuid: "…"/);
    // A unique violation's detail repeats the key: dropped, the constraint kept.
    const duplicate = await pgError(
      `CREATE TEMP TABLE t (k text CONSTRAINT t_k PRIMARY KEY); INSERT INTO t VALUES ('${SECRET}'), ('${SECRET}')`,
      [],
    );
    assert.match(JSON.stringify(duplicate.driverError), /081234567890/);
    assert.doesNotMatch(JSON.stringify(safeErrorFields(duplicate)), /081234567890/);
    assert.match(safeErrorText(duplicate), /23505.*constraint t_k/);
  });

  it('answers a data exception 400 and logs it without values', async () => {
    const error = await pgError('SELECT $1::uuid', [SECRET]);
    assert.equal(errorBody(error, 'r1').statusCode, 400);
    assert.equal(errorBody(new Error('boom'), 'r1').statusCode, 500);
    const logged: unknown[] = [];
    const filter = new ErrorFilter();
    const capture = (...args: unknown[]) => void logged.push(args);
    Object.assign(filter as unknown as { logger: object }, {
      logger: { error: capture, warn: capture },
    });
    const res = {
      locals: {},
      headersSent: false,
      status() {
        return this;
      },
      json: () => undefined,
    };
    const host = {
      switchToHttp: () => ({ getRequest: () => ({ id: 'r1' }), getResponse: () => res }),
    };
    filter.catch(error, host as never);
    filter.catch(
      new QueryFailedError('UPDATE x SET a = $1', [SECRET], new Error('connection lost')),
      host as never,
    );
    assert.equal(logged.length, 2);
    assert.doesNotMatch(JSON.stringify(logged), /081234567890|budi@example/);
  });
});
