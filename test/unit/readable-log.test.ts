import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readableLine, readableLines } from '../../src/http/readable-log.js';

const AT = new Date(2025, 10, 21, 14, 2, 31, 207).getTime();

describe('readable log lines (development)', () => {
  it('a request line: method, path, status and time first, then its fields', () => {
    const json = JSON.stringify({
      level: 30,
      time: AT,
      pid: 1,
      hostname: 'h',
      service: 'payment-callback-gateway',
      reqId: 'r-1',
      req: { id: 'r-1', method: 'GET', path: '/callbacks/ppob/:token' },
      res: { statusCode: 200 },
      responseTime: 12,
      provider: 'ppob',
      outcome: 'accepted',
      clientIp: '127.0.0.1',
      msg: 'request completed',
    });
    assert.equal(
      readableLine(json),
      '14:02:31.207 INFO  GET /callbacks/ppob/:token 200 12 ms  reqId=r-1 provider=ppob outcome=accepted clientIp=127.0.0.1',
    );
  });

  it('any other line: level, [context], message and fields; quoted when they have spaces', () => {
    const json = JSON.stringify({
      level: 40,
      time: AT,
      context: 'OutboxRelay',
      msg: 'RabbitMQ unreachable',
      broker: 'amqp://guest:***@localhost:5672',
      reason: 'connect ECONNREFUSED 127.0.0.1:5672',
      counts: { pending: 2 },
    });
    assert.equal(
      readableLine(json),
      '14:02:31.207 WARN  [OutboxRelay] RabbitMQ unreachable  broker=amqp://guest:***@localhost:5672 reason="connect ECONNREFUSED 127.0.0.1:5672" counts={"pending":2}',
    );
  });

  it('an error: its stack on the lines below, indented', () => {
    const json = JSON.stringify({
      level: 50,
      time: AT,
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (a.js:1:1)' },
      msg: 'boom',
    });
    assert.equal(
      readableLine(json),
      '14:02:31.207 ERROR boom\n    Error: boom\n        at f (a.js:1:1)',
    );
  });

  it('shows only what the JSON line holds; anything that is not one passes unchanged', () => {
    assert.equal(readableLine('not json'), 'not json');
    assert.equal(readableLine('[1,2]'), '[1,2]');
    const written: string[] = [];
    const stream = readableLines({ write: (chunk: string) => written.push(chunk) });
    stream.write(`${JSON.stringify({ level: 30, time: AT, msg: 'a' })}\n`);
    assert.deepEqual(written, ['14:02:31.207 INFO  a\n']);
  });
});
