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
import { MalformedCommand, parseTopupCommand } from '../../src/topups/topup-commands.js';

const ASYNCAPI_FILE = join(projectRoot(), 'openapi', 'asyncapi.yaml');
const SCHEMA_FILE = join(projectRoot(), 'openapi', 'topup-command.schema.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked by the schema
type Json = Record<string, any>;

const command = (data: Json, envelope: Json = {}): Json => ({
  specversion: '1.0',
  id: 'cmd-1',
  source: '/services/fulfilment',
  type: 'topup.requested',
  data,
  ...envelope,
});
const prepaid = {
  provider: 'ppob',
  reference: '10327',
  product: 'S10',
  destination: '08123214214',
};

/** Commands the schema and the gateway must judge alike: accepted (true) or refused. */
const CASES: Array<[string, unknown, boolean]> = [
  ['a PPOB prepaid order', command(prepaid), true],
  [
    'a Sidopulsa order with an account',
    command({ ...prepaid, provider: 'sidopulsa', account: 'default' }),
    true,
  ],
  [
    'a PPOB postpaid payment (inquiryId only)',
    command({ provider: 'ppob', reference: 'R-2', inquiryId: '6748324' }),
    true,
  ],
  [
    'with time and datacontenttype',
    command(prepaid, { time: '2025-11-21T05:00:00Z', datacontenttype: 'application/json' }),
    true,
  ],
  ['another CloudEvent type', command(prepaid, { type: 'order.created' }), false],
  ['specversion 0.3', command(prepaid, { specversion: '0.3' }), false],
  ['no id', command(prepaid, { id: '' }), false],
  ['no source', command(prepaid, { source: undefined }), false],
  ['no data', command(prepaid, { data: 'S10' }), false],
  ['an unknown provider', command({ ...prepaid, provider: 'nicepay' }), false],
  ['no destination', command({ ...prepaid, destination: undefined }), false],
  ['no product', command({ ...prepaid, product: undefined }), false],
  ['a reference with a space', command({ ...prepaid, reference: '10 327' }), false],
  ['a reference of 65 characters', command({ ...prepaid, reference: 'r'.repeat(65) }), false],
  ['a numeric reference', command({ ...prepaid, reference: 10327 }), false],
  ['a destination of 2 digits', command({ ...prepaid, destination: '08' }), false],
  ['an unknown field', command({ ...prepaid, amount: '10000' }), false],
  ['an array', [command(prepaid)], false],
];

describe('the top-up command contract (asyncapi.yaml + topup-command.schema.json)', () => {
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
    // strictRequired off: the schema's if/then names inquiryId, product and destination from its parent.
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    (addFormats as unknown as typeof addFormats.default)(ajv);
    validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  });

  it('names the queues the gateway declares by default: the commands queue and its dead-letter queue', () => {
    const { topups } = loadConfig({});
    const commands = document.channels().get('topupCommands')!;
    assert.equal(commands.address(), topups.commandsQueue);
    const amqp = commands.bindings().get('amqp')!.value();
    assert.deepEqual(
      [amqp.is, amqp.queue.name, amqp.queue.durable],
      ['queue', topups.commandsQueue, true],
    );
    const dead = document.channels().get('topupCommandDeadLetters')!;
    assert.equal(dead.address(), topups.deadLetterQueue);
    assert.equal(document.operations().get('receiveTopupRequested')!.action(), 'receive');
    assert.equal(document.operations().get('deadLetterTopupCommand')!.action(), 'send');
  });

  it("its examples satisfy the schema and the gateway's own parser", () => {
    const examples = document.components().messages().get('TopupRequested')!.examples().all();
    assert.ok(examples.length >= 2);
    for (const example of examples) {
      const payload = example.payload();
      assert.ok(validate(payload), JSON.stringify(validate.errors));
      assert.doesNotThrow(() => parseTopupCommand(payload));
    }
  });

  for (const [name, value, accepted] of CASES) {
    it(`${name}: ${accepted ? 'accepted' : 'refused'} by the schema and by the gateway alike`, () => {
      const body = JSON.parse(JSON.stringify(value));
      assert.equal(validate(body), accepted, `schema: ${JSON.stringify(validate.errors)}`);
      let gateway = true;
      try {
        parseTopupCommand(body);
      } catch (error) {
        assert.ok(error instanceof MalformedCommand);
        gateway = false;
      }
      assert.equal(gateway, accepted, 'gateway');
    });
  }
});
