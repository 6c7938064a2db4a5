import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getMetadataStorage } from 'class-validator';
import { BadRequestException } from '@nestjs/common';
import { McpaymentCallbackDto } from '../../src/providers/mcpayment/mcpayment.dto.js';
import { MCPAYMENT_PAID_SAMPLE } from '../../src/providers/mcpayment/mcpayment.samples.js';
import { NicepayNotificationDto } from '../../src/providers/nicepay/nicepay.dto.js';
import { NICEPAY_VA_DEPOSIT_SAMPLE } from '../../src/providers/nicepay/nicepay.samples.js';
import { PpobReportDto } from '../../src/providers/ppob/ppob.dto.js';
import { PPOB_SUCCESS_SAMPLE } from '../../src/providers/ppob/ppob.samples.js';
import { S88payCallbackDto } from '../../src/providers/s88pay/s88pay.dto.js';
import { S88PAY_DEPOSIT_PLAINTEXT } from '../../src/providers/s88pay/s88pay.samples.js';
import { SidopulsaReportDto } from '../../src/providers/sidopulsa/sidopulsa.dto.js';
import {
  SIDOPULSA_FAILED_SAMPLE,
  SIDOPULSA_SUCCESS_SAMPLE,
} from '../../src/providers/sidopulsa/sidopulsa.samples.js';
import { isString, matches, maxLength } from 'class-validator';
import {
  fastValidated,
  fullyValidated,
  quickCheck,
  validateFields,
} from '../../src/common/validate-fields.js';

type Fields = Record<string, unknown>;

/** The properties a DTO declares rules for. */
function declared(dto: new () => object): string[] {
  const names = getMetadataStorage()
    .getTargetValidationMetadatas(dto, '', true, false)
    .map((m) => m.propertyName);
  return [...new Set(names)];
}

/** A small deterministic generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const REPLACEMENTS: unknown[] = [
  '',
  ' ',
  '0',
  '00',
  '1',
  '2',
  '-1',
  '150000',
  '150000.00',
  '1.5e3',
  'IDR',
  'idr',
  '20251121',
  '120000',
  'x'.repeat(41),
  'x'.repeat(300),
  'a\u0001b',
  'a\nb',
  'ünïcödé',
  // Longer than 40 UTF-16 units, but 40 characters by MaxLength's own count (surrogate pairs and
  // variation selectors discounted): the quick check must leave these to the validator.
  '\u{1F600}'.repeat(40),
  '\u{1F600}'.repeat(41),
  'a\uFE0F'.repeat(40),
  'SUCCESS',
  'Success',
  'failed',
  'Gagal',
  '1763701512',
  0,
  1,
  2,
  150000,
  150000.5,
  -5,
  1e21,
  true,
  false,
  null,
];

/** The sample, then every property replaced, removed and added, then random combinations. */
function variants(dto: new () => object, sample: Fields): Fields[] {
  const names = [...new Set([...declared(dto), ...Object.keys(sample)])];
  const out: Fields[] = [{ ...sample }, { ...sample, unknownExtra: 'kept' }];
  for (const name of names) {
    const without = { ...sample };
    delete without[name];
    out.push(without);
    for (const value of REPLACEMENTS) out.push({ ...sample, [name]: value });
    if (typeof sample[name] === 'string') {
      out.push({ ...sample, [name]: `${sample[name] as string}x` });
      out.push({ ...sample, [name]: ` ${sample[name] as string}` });
    }
  }
  const next = random(names.length * 7919);
  for (let i = 0; i < 400; i += 1) {
    const fields = { ...sample };
    for (let k = 0; k < 1 + Math.floor(next() * 3); k += 1) {
      const name = names[Math.floor(next() * names.length)];
      if (next() < 0.2) delete fields[name];
      else fields[name] = REPLACEMENTS[Math.floor(next() * REPLACEMENTS.length)];
    }
    out.push(fields);
  }
  return out;
}

const FLAT: [string, new () => object, Fields[]][] = [
  ['NICEPAY', NicepayNotificationDto, [NICEPAY_VA_DEPOSIT_SAMPLE]],
  ['S88Pay', S88payCallbackDto, [JSON.parse(S88PAY_DEPOSIT_PLAINTEXT) as Fields]],
  ['Sidopulsa', SidopulsaReportDto, [SIDOPULSA_SUCCESS_SAMPLE, SIDOPULSA_FAILED_SAMPLE]],
  ['PPOB', PpobReportDto, [PPOB_SUCCESS_SAMPLE]],
];

const plain = (value: object) => JSON.parse(JSON.stringify(value)) as unknown;

describe('validateFields: the fast path decides exactly as class-validator', () => {
  for (const [name, dto, samples] of FLAT) {
    it(`${name}: same verdict and same instance on every variant of the samples`, () => {
      let accepted = 0;
      let refused = 0;
      for (const sample of samples) {
        for (const fields of variants(dto, sample)) {
          const before = JSON.stringify(fields);
          const fast = fastValidated(dto, fields);
          const full = fullyValidated(dto, fields);
          const label = `${name} ${before}`;
          assert.notEqual(fast, undefined, `${label}: the fast path applies to flat fields`);
          if (full.problems.length === 0) {
            assert.ok(fast, `${label}: class-validator accepts it, so must the fast path`);
            assert.ok(fast instanceof dto, `${label}: an instance of the DTO`);
            assert.deepEqual(plain(fast), plain(full.instance), label);
            accepted += 1;
          } else {
            assert.equal(fast, null, `${label}: refused by class-validator (${full.problems[0]})`);
            refused += 1;
          }
          assert.equal(JSON.stringify(fields), before, `${label}: the input is not modified`);
        }
      }
      // Both verdicts were exercised, many times each.
      assert.ok(accepted > 20, `${name}: ${accepted} accepted`);
      assert.ok(refused > 100, `${name}: ${refused} refused`);
    });
  }

  it('an empty optional field is dropped, as the full path drops it', () => {
    const dto = fastValidated(NicepayNotificationDto, {
      ...NICEPAY_VA_DEPOSIT_SAMPLE,
      currency: '',
    });
    assert.ok(dto);
    assert.equal(Object.hasOwn(dto, 'currency'), false);
  });

  it('a refusal still lists every problem, worded by class-validator', () => {
    const fields = { ...NICEPAY_VA_DEPOSIT_SAMPLE, amt: '1.5', status: '9' };
    assert.throws(
      () => validateFields(NicepayNotificationDto, fields, 'NICEPAY callback'),
      (error: unknown) => {
        assert.ok(error instanceof BadRequestException);
        const body = error.getResponse() as { errors: string[] };
        assert.deepEqual(body.errors, [
          'amt must be a whole amount of up to 12 digits',
          'status must be 0 (deposit) or 1 (reversal)',
        ]);
        return true;
      },
    );
  });

  it('nested fields, a nested DTO and a __proto__ key take the full path', () => {
    assert.equal(
      fastValidated(NicepayNotificationDto, { ...NICEPAY_VA_DEPOSIT_SAMPLE, extra: { a: 1 } }),
      undefined,
    );
    assert.equal(fastValidated(McpaymentCallbackDto, { ...MCPAYMENT_PAID_SAMPLE }), undefined);
    const poisoned = JSON.parse(
      `{"__proto__":null,${JSON.stringify(NICEPAY_VA_DEPOSIT_SAMPLE).slice(1)}`,
    ) as Fields;
    assert.equal(fastValidated(NicepayNotificationDto, poisoned), undefined);
    // The full path still decides them.
    const mcpayment = validateFields(McpaymentCallbackDto, { ...MCPAYMENT_PAID_SAMPLE }, 'x');
    assert.ok(mcpayment instanceof McpaymentCallbackDto);
  });
});

describe('quick checks: the verdicts of IsString, Matches and MaxLength without calling them', () => {
  const values: unknown[] = [
    ...REPLACEMENTS,
    undefined,
    {},
    [],
    ['a'],
    new String('boxed'),
    'x'.repeat(40),
    '\u{1F600}'.repeat(20) + 'x'.repeat(20),
    '\uD800'.repeat(41),
  ];
  it('answer as class-validator does, or leave the value to it', () => {
    const cases: [string, unknown[], (value: unknown) => boolean][] = [
      ['isString', [], (value) => isString(value)],
      ['matches', [/^\d{1,12}$/, undefined], (value) => matches(value as string, /^\d{1,12}$/)],
      ['matches', [/\S/, undefined], (value) => matches(value as string, /\S/)],
      ['maxLength', [40], (value) => maxLength(value, 40)],
      ['maxLength', [0], (value) => maxLength(value, 0)],
    ];
    let decided = 0;
    let deferred = 0;
    for (const [name, constraints, validator] of cases) {
      const quick = quickCheck(name, constraints);
      assert.ok(quick, name);
      for (const value of values) {
        const verdict = quick(value);
        if (verdict === undefined) deferred += 1;
        else {
          assert.equal(
            verdict,
            validator(value),
            `${name} ${String(constraints[0])} ${String(value)}`,
          );
          decided += 1;
        }
      }
    }
    assert.ok(decided > 150 && deferred >= 4, `${decided} decided, ${deferred} deferred`);
  });

  it('a global or sticky pattern, a string pattern or another rule is left to class-validator', () => {
    assert.equal(quickCheck('matches', [/a/g, undefined]), undefined);
    assert.equal(quickCheck('matches', [/a/y, undefined]), undefined);
    assert.equal(quickCheck('matches', ['^a$', 'i']), undefined);
    assert.equal(quickCheck('maxLength', ['40']), undefined);
    assert.equal(quickCheck('isIn', [['0', '1']]), undefined);
    assert.equal(quickCheck(undefined, []), undefined);
  });
});
