/**
 * Bad-input class: S88Pay's AES-CBC has no MAC and a fixed IV, so a captured `key` can be altered
 * or spliced block by block. Every such variant of REAL ciphertexts (bit flips in every block,
 * splices of two genuine keys at every block boundary, blocks swapped, repeated, dropped,
 * truncated) must be refused with the one opaque 401 — the same message for all of them, echoing
 * nothing of the plaintext — and must store and publish nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/broker.js';
import { acceptedCallbacks, createTestBed, type TestBed } from '../support/gateway.js';
import { s88payCallback, s88payPayload } from '../support/s88pay.js';

const BLOCK = 16;
const OPAQUE =
  'S88Pay key is not a callback for the configured credentials and the transaction codes sent beside it';

const blocksOf = (key: string) => Buffer.from(decodeURIComponent(key), 'base64');
const wire = (ciphertext: Buffer) => encodeURIComponent(ciphertext.toString('base64'));

function block(data: Buffer, i: number): Buffer {
  return data.subarray(i * BLOCK, (i + 1) * BLOCK);
}

describe('S88Pay: altered and spliced real ciphertexts', () => {
  let bed: TestBed;
  // Hundreds of refusals from one client: the per-address limiter is lifted for this test.
  before(async () => (bed = await createTestBed('sqlite', { AUTH_FAILURE_LIMIT: '100000' })));
  after(() => bed.teardown());

  it('refuses every variant with one identical 401 that echoes nothing, storing nothing', async () => {
    const payloadA = s88payPayload();
    const payloadB = s88payPayload({ transaction_status: 3, transaction_amount: '98765.43' });
    const a = s88payCallback(payloadA) as Record<string, string>;
    const b = s88payCallback(payloadB) as Record<string, string>;
    const url = `${bed.gateway.url}/callbacks/s88pay`;
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await post(a)).status, 200, 'the genuine callback is accepted');

    const A = blocksOf(a.key);
    const B = blocksOf(b.key);
    assert.equal(A.length, B.length);
    const n = A.length / BLOCK;
    assert.ok(n >= 10, `a real payload spans many blocks (${n})`);

    const variants: Array<[string, Buffer]> = [];
    for (let i = 0; i < n; i += 1) {
      for (const bit of [0, 7, 8 * 7 + 3, 8 * 15 + 7]) {
        const flipped = Buffer.from(A);
        flipped[i * BLOCK + (bit >> 3)] ^= 1 << (bit & 7);
        variants.push([`bit ${bit} of block ${i} flipped`, flipped]);
      }
      if (i + 1 < n) {
        const swapped = Buffer.concat([
          A.subarray(0, i * BLOCK),
          block(A, i + 1),
          block(A, i),
          A.subarray((i + 2) * BLOCK),
        ]);
        variants.push([`blocks ${i} and ${i + 1} swapped`, swapped]);
      }
      variants.push([
        `block ${i} repeated`,
        Buffer.concat([A.subarray(0, (i + 1) * BLOCK), A.subarray(i * BLOCK)]),
      ]);
      if (n > 1) {
        variants.push([
          `block ${i} dropped`,
          Buffer.concat([A.subarray(0, i * BLOCK), A.subarray((i + 1) * BLOCK)]),
        ]);
      }
      if (i > 0) {
        variants.push([`truncated to ${i} blocks`, A.subarray(0, i * BLOCK)]);
        variants.push([
          `A[0..${i}) + B[${i}..)`,
          Buffer.concat([A.subarray(0, i * BLOCK), B.subarray(i * BLOCK)]),
        ]);
        variants.push([
          `B[0..${i}) + A[${i}..)`,
          Buffer.concat([B.subarray(0, i * BLOCK), A.subarray(i * BLOCK)]),
        ]);
        variants.push([
          `B's block ${i} in A`,
          Buffer.concat([A.subarray(0, i * BLOCK), block(B, i), A.subarray((i + 1) * BLOCK)]),
        ]);
      }
    }

    const plaintextValues = [...Object.values(payloadA), ...Object.values(payloadB)]
      .map(String)
      .filter((value) => value.length >= 3);
    const messages = new Set<string>();
    let sent = 0;
    for (const [what, ciphertext] of variants) {
      // A splice that happens to equal a genuine key is that genuine key, not a variant.
      if (ciphertext.equals(A) || ciphertext.equals(B)) continue;
      for (const beside of [a, b]) {
        const res = await post({ ...beside, key: wire(ciphertext) });
        const text = await res.text();
        sent += 1;
        assert.equal(res.status, 401, `${what}: ${res.status} ${text}`);
        const { message } = JSON.parse(text) as { message: string };
        messages.add(message);
        for (const value of plaintextValues) {
          assert.ok(!text.includes(value), `${what}: the answer echoes a plaintext value`);
        }
      }
    }
    assert.ok(sent > 200, `${sent} variants sent`);
    assert.deepEqual([...messages], [OPAQUE], 'one identical message for every variant');

    await sleep(300);
    const accepted = await acceptedCallbacks(bed.db);
    assert.equal(accepted.length, 1, 'only the genuine callback is stored as accepted');
    assert.equal(bed.tap.messages.length, 1, 'only the genuine callback became an event');
  });
});
