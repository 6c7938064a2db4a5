import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import qs from 'qs';
import { parseFlatForm } from '../../src/http/body-parsing.js';

/** body-parser's own `extended: false` call: the parser parseFlatForm stands in for. */
function bodyParserFlat(body: string, charset: 'utf-8' | 'iso-8859-1' = 'utf-8'): unknown {
  return qs.parse(body, {
    allowPrototypes: true,
    arrayLimit: body.split('&').length,
    depth: 0,
    charset,
    parameterLimit: 1000,
    strictDepth: true,
  });
}

const piece = fc.oneof(
  fc.constantFrom(
    'a',
    'b',
    'tXid',
    'amt',
    '=',
    '&',
    '+',
    '%',
    '%20',
    '%2B',
    '%26',
    '%3D',
    '%E9',
    '%C3%A9',
    '%zz',
    '%5B',
    '%5D',
    '[',
    ']',
    '[]',
    '[0]',
    '__proto__',
    '0',
    'constructor',
  ),
  fc.string({ maxLength: 4 }),
);

describe('flat form parsing', () => {
  it('gives what body-parser (qs, depth 0) gives for any form text', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const body = pieces.join('');
        assert.deepEqual({ ...parseFlatForm(body) }, bodyParserFlat(body));
      }),
      { numRuns: 5000 },
    );
  });

  it('decodes ISO-8859-1 forms like body-parser', () => {
    for (const body of ['name=Jos%E9', 'a=%FF%00+b', 'x=%zz'])
      assert.deepEqual(
        { ...parseFlatForm(body, 'iso-8859-1') },
        bodyParserFlat(body, 'iso-8859-1'),
      );
  });

  it('keeps a NICEPAY notification field for field', () => {
    const body =
      'tXid=IONPAYTEST02202511211234567890&amt=10000&referenceNo=ORD-1&billingNm=Budi+Santoso&fee=';
    assert.deepEqual(parseFlatForm(body), {
      tXid: 'IONPAYTEST02202511211234567890',
      amt: '10000',
      referenceNo: 'ORD-1',
      billingNm: 'Budi Santoso',
      fee: '',
    });
  });
});
