import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidV7, uuidV7Time } from '../../src/common/uuid-v7.js';

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV7 (callback ids)', () => {
  it('is an RFC 9562 version 7 UUID carrying the current millisecond', () => {
    const before = Date.now();
    const id = uuidV7();
    const after = Date.now();
    assert.match(id, SHAPE);
    assert.ok(uuidV7Time(id) >= before && uuidV7Time(id) <= after, id);
    const later = Date.now() + 60_000;
    assert.equal(uuidV7Time(uuidV7(later)), later);
  });

  it('sorts in creation order, within a millisecond and when the clock steps back', () => {
    const ids: string[] = [];
    const t = Date.UTC(2030, 0, 1);
    for (let i = 0; i < 10_000; i += 1) ids.push(uuidV7(t)); // one busy millisecond: overflows
    ids.push(uuidV7(t - 5_000)); // the clock stepped back
    for (let i = 0; i < 1_000; i += 1) ids.push(uuidV7(t + 1 + Math.floor(i / 100)));
    for (const id of ids) assert.match(id, SHAPE);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('is random after the time and the sequence', () => {
    const tails = new Set<string>();
    for (let i = 0; i < 2_000; i += 1) tails.add(uuidV7().slice(19));
    assert.equal(tails.size, 2_000);
  });
});
