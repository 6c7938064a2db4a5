import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ackContentType } from '../../src/ingest/callback-endpoint.js';

describe('the ack Content-Type as written', () => {
  it("adds charset=utf-8 like Express's res.type(t).send(string), replacing another charset", () => {
    assert.equal(ackContentType('application/json'), 'application/json; charset=utf-8');
    assert.equal(ackContentType('text/plain'), 'text/plain; charset=utf-8');
    assert.equal(ackContentType('Text/Plain; charset=ISO-8859-1'), 'text/plain; charset=utf-8');
    assert.equal(
      ackContentType('application/json; version=2'),
      'application/json; version=2; charset=utf-8',
    );
  });
});
