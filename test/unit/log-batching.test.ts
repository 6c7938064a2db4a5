import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineBatcher } from '../../src/http/logging.js';

/** A stream that records what it was given, like sonic-boom's write/flush/flushSync. */
function recordingStream() {
  const chunks: string[] = [];
  let flushedSync = 0;
  return {
    chunks,
    flushedSync: () => flushedSync,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    flushSync() {
      flushedSync += 1;
    },
  };
}

describe('log lines batched before the destination (sonic-boom)', () => {
  it('nothing is written until the batch reaches its size; then one chunk, lines in order', () => {
    const stream = recordingStream();
    const batcher = new LineBatcher(stream, 100);
    const line = (n: number) => `{"n":${n},"msg":"${'x'.repeat(20)}"}\n`; // 36 bytes
    batcher.write(line(1));
    batcher.write(line(2));
    assert.deepEqual(stream.chunks, []);
    batcher.write(line(3)); // 108 bytes ≥ 100
    assert.deepEqual(stream.chunks, [line(1) + line(2) + line(3)]);
    batcher.write(line(4));
    assert.equal(stream.chunks.length, 1);
    batcher.flush();
    assert.deepEqual(stream.chunks, [line(1) + line(2) + line(3), line(4)]);
    batcher.flush(); // nothing gathered: nothing written
    assert.equal(stream.chunks.length, 2);
  });

  it('counts bytes, not characters: multi-byte lines fill a batch sooner', () => {
    const stream = recordingStream();
    const batcher = new LineBatcher(stream, 12);
    batcher.write('ééé\n'); // 7 bytes, 4 characters
    assert.equal(stream.chunks.length, 0);
    batcher.write('ééé\n'); // 14 bytes ≥ 12, only 8 characters
    assert.deepEqual(stream.chunks, ['ééé\nééé\n']);
  });

  it('flushSync hands over what is gathered and then flushes the stream synchronously', () => {
    const stream = recordingStream();
    const batcher = new LineBatcher(stream, 4096);
    batcher.write('last line\n');
    batcher.flushSync();
    assert.deepEqual(stream.chunks, ['last line\n']);
    assert.equal(stream.flushedSync(), 1);
  });

  it('flush(callback) answers once the stream has everything (pino logger.flush)', async () => {
    const stream = recordingStream();
    const batcher = new LineBatcher(stream, 4096);
    batcher.write('a\n');
    await new Promise<void>((resolve, reject) =>
      batcher.flush((error) => (error ? reject(error) : resolve())),
    );
    assert.deepEqual(stream.chunks, ['a\n']);
  });
});
