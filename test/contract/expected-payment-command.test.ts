import { DiagnosticSeverity, fromFile, Parser } from '@asyncapi/parser';
import type { AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { projectRoot } from '../../src/bin/sync-openapi.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import { MalformedCommand } from '../../src/messaging/commands.js';
import { parseExpectedPaymentCommand } from '../../src/verification/expected-payment-commands.js';

const ASYNCAPI_FILE = join(projectRoot(), 'openapi', 'asyncapi.yaml');
const SCHEMA_FILE = join(projectRoot(), 'openapi', 'expected-payment-command.schema.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked by the schema
type Json = Record<string, any>;

const command = (data: Json, envelope: Json = {}): Json => ({
  specversion: '1.0',
  id: 'cmd-1',
  source: '/services/orders',
  type: 'payment.expected',
  data,
  ...envelope,
});
const nicepay = {
  provider: 'nicepay',
  account: 'IONPAYTEST',
  providerTransactionId: 'IONPAYTEST02202511211200001234',
  merchantReference: 'ORD-1',
  amount: '150000',
  currency: 'IDR',
  expiresAt: '2025-11-22T12:00:00+07:00',
};

/** Commands the schema and the gateway's parser must judge alike: accepted (true) or refused. */
const CASES: Array<[string, unknown, boolean]> = [
  ['a NICEPAY payment', command(nicepay), true],
  [
    'an MCPayment payment with its details',
    command({
      ...nicepay,
      provider: 'mcpayment',
      details: { externalId: '1', paymentMethod: 'BANK_TRANSFER', paymentChannel: 'BRI' },
    }),
    true,
  ],
  ['another type', command(nicepay, { type: 'payment.expecting' }), false],
  ['no data', command(nicepay, { data: undefined }), false],
  ['a provider without a status API', command({ ...nicepay, provider: 'sidopulsa' }), false],
  ['an amount as a number', command({ ...nicepay, amount: 150000 }), false],
  ['an amount with an exponent', command({ ...nicepay, amount: '1.5e5' }), false],
  ['a currency in lower case', command({ ...nicepay, currency: 'idr' }), false],
  ['an expiry without an offset', command({ ...nicepay, expiresAt: '2025-11-22T12:00:00' }), false],
  ['an unknown field', command({ ...nicepay, note: 'x' }), false],
  ['an unknown detail', command({ ...nicepay, details: { bank: 'BRI' } }), false],
  ['a NUL in the reference', command({ ...nicepay, merchantReference: 'ORD\u00001' }), false],
  ['no account', command({ ...nicepay, account: undefined }), false],
  ['an array', [command(nicepay)], false],
];

describe('the expected-payment command contract (asyncapi.yaml + expected-payment-command.schema.json)', () => {
  let document: AsyncAPIDocumentInterface;
  let validate: ValidateFunction;

  before(async () => {
    const parsed = await fromFile(new Parser(), ASYNCAPI_FILE).parse();
    const errors = parsed.diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    assert.deepEqual(
      errors.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`),
      [],
    );
    document = parsed.document!;
    const ajv = new Ajv({ allErrors: true, strict: true });
    (addFormats as unknown as typeof addFormats.default)(ajv);
    validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  });

  it('names the queues the gateway declares by default', () => {
    const { expected } = loadConfig({}).verification;
    const commands = document.channels().get('expectedPaymentCommands')!;
    assert.equal(commands.address(), expected.commandsQueue);
    assert.equal(
      document.channels().get('expectedPaymentCommandDeadLetters')!.address(),
      expected.deadLetterQueue,
    );
    assert.equal(document.operations().get('receivePaymentExpected')!.action(), 'receive');
  });

  it("its examples satisfy the schema and the gateway's own parser", () => {
    const examples = document.components().messages().get('PaymentExpected')!.examples().all();
    assert.ok(examples.length >= 2);
    for (const example of examples) {
      const payload = example.payload();
      assert.ok(validate(payload), JSON.stringify(validate.errors));
      assert.doesNotThrow(() => parseExpectedPaymentCommand(payload));
    }
  });

  for (const [name, value, accepted] of CASES) {
    it(`${name}: ${accepted ? 'accepted' : 'refused'} by the schema and by the gateway alike`, () => {
      const body = JSON.parse(JSON.stringify(value));
      assert.equal(validate(body), accepted, `schema: ${JSON.stringify(validate.errors)}`);
      let gateway = true;
      try {
        parseExpectedPaymentCommand(body);
      } catch (error) {
        assert.ok(error instanceof MalformedCommand, String(error));
        gateway = false;
      }
      assert.equal(gateway, accepted, 'gateway');
    });
  }
});
