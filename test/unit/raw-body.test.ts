import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeRawBody } from '../../src/transactions/callback-store.js';

/** The definition: text when the bytes are exactly the UTF-8 of a string without NUL. */
function reference(body: Buffer): 'utf8' | 'base64' {
  const text = body.toString('utf8');
  return !text.includes('\u0000') && Buffer.from(text, 'utf8').equals(body) ? 'utf8' : 'base64';
}

describe('raw body storage encoding', () => {
  const cases: [string, Buffer][] = [
    ['a form', Buffer.from('tXid=IONPAY&amt=150000&billingNm=Budi+Santoso')],
    ['JSON with multi-byte text', Buffer.from('{"name":"Ünïcödé ✓ 😀"}')],
    ['empty', Buffer.alloc(0)],
    ['a NUL byte', Buffer.from('a\u0000b')],
    ['an invalid byte', Buffer.from([0x61, 0xff, 0x62])],
    ['an overlong encoding', Buffer.from([0xc0, 0x80])],
    ['an encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ['a truncated sequence', Buffer.from([0xe2, 0x82])],
    ['a byte order mark', Buffer.from([0xef, 0xbb, 0xbf, 0x61])],
  ];
  for (const [name, body] of cases) {
    it(`${name}: ${reference(body)}, and it decodes back to the same bytes`, () => {
      const stored = encodeRawBody(body);
      assert.equal(stored.encoding, reference(body));
      assert.ok(Buffer.from(stored.text, stored.encoding).equals(body));
    });
  }

  it('agrees with the definition on random bytes and random text', () => {
    let text = 0;
    for (let i = 0; i < 5_000; i += 1) {
      const body =
        i % 2 === 0
          ? randomBytes(1 + (i % 40))
          : Buffer.from(String.fromCodePoint(...[...randomBytes(8)].map((b) => 1 + b * 300)));
      const stored = encodeRawBody(body);
      assert.equal(stored.encoding, reference(body), body.toString('hex'));
      assert.ok(Buffer.from(stored.text, stored.encoding).equals(body));
      if (stored.encoding === 'utf8') text += 1;
    }
    assert.ok(text > 2_000, `${text} stored as text`);
  });
});
