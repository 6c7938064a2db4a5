import {
  type AsyncAPIDocumentInterface,
  DiagnosticSeverity,
  fromFile,
  type MessageInterface,
  Parser,
} from '@asyncapi/parser';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import amqplib from 'amqplib';
import type { ConsumeMessage } from 'amqplib';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../../src/bin/sync-openapi.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import { EVENT_STATUSES } from '../../src/events/normalized-transaction.js';
import {
  buildTransactionEvent,
  renderPayload,
  eventIdFor,
} from '../../src/events/transaction-event.js';
import type { NicepayNotificationDto } from '../../src/providers/nicepay/nicepay.dto.js';
import { NicepayProvider } from '../../src/providers/nicepay/nicepay.provider.js';
import { NICEPAY_VA_DEPOSIT_SAMPLE } from '../../src/providers/nicepay/nicepay.samples.js';
import { AMQP_URL } from '../support/broker.js';
import { NICEPAY, PPOB, SIDOPULSA } from '../support/credentials.js';
import { createTestBed, type TestBed } from '../support/gateway.js';
import { mcpaymentCallback, mcpaymentSignature, postMcpayment } from '../support/mcpayment.js';
import { nicepayNotification, postForm } from '../support/nicepay.js';
import { callbackUrl, uniqueRef } from '../support/ppob-sidopulsa.js';
import { postJson, s88payCallback, s88payPayload } from '../support/s88pay.js';

const ASYNCAPI_FILE = join(projectRoot(), 'openapi', 'asyncapi.yaml');
const SCHEMA_FILE = join(projectRoot(), 'openapi', 'transaction-event.schema.json');
const DEFAULT_EXCHANGE = 'payments.events';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked by the schemas
type Json = Record<string, any>;

/**
 * The schema with `additionalProperties: false` on every object it describes field by field (raw
 * excepted, which keeps whatever the provider sent): what the gateway's own output must match.
 */
function strictVariant(schema: Json): Json {
  const copy = JSON.parse(JSON.stringify(schema)) as Json;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const object = node as Json;
    if (object.properties && object.additionalProperties === undefined) {
      object.additionalProperties = false;
    }
    Object.values(object).forEach(visit);
  };
  visit(copy);
  return copy;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true });
  // ajv-formats is CommonJS: its default export is the plugin itself.
  (addFormats as unknown as typeof addFormats.default)(ajv);
  // The AsyncAPI parser tags each schema it parsed with its own id.
  ajv.addKeyword('x-parser-schema-id');
  return ajv;
}

function errorsOf(validate: ValidateFunction): string {
  return JSON.stringify(validate.errors, null, 2);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Value at a runtime expression such as `$message.payload#/data/status`. */
function atLocation(location: string, message: { headers: Json; payload: Json }): unknown {
  const match = /^\$message\.(header|payload)#(\/.*)?$/.exec(location);
  assert.ok(match, `unsupported runtime expression ${location}`);
  let value: unknown = match[1] === 'header' ? message.headers : message.payload;
  for (const token of (match[2] ?? '').split('/').slice(1)) {
    value = (value as Json)[token.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

describe('the event contract (openapi/asyncapi.yaml + transaction-event.schema.json)', () => {
  let document: AsyncAPIDocumentInterface;
  let message: MessageInterface;
  let schema: Json;
  let validateEvent: ValidateFunction;
  let validateAsConsumer: ValidateFunction;

  before(async () => {
    const parsed = await fromFile(new Parser(), ASYNCAPI_FILE).parse();
    const errors = parsed.diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    assert.deepEqual(
      errors.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`),
      [],
      'asyncapi.yaml has errors',
    );
    assert.ok(parsed.document, 'asyncapi.yaml did not parse');
    document = parsed.document;
    message = document.components().messages().get('TransactionEvent')!;
    schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
    // The gateway's own output is held to exactly the named fields; consumers get the tolerant one.
    validateEvent = newAjv().compile(strictVariant(schema));
    validateAsConsumer = newAjv().compile(schema);
  });

  describe('the AsyncAPI document', () => {
    it('is AsyncAPI 3.0.0 with a RabbitMQ server whose host is a variable', () => {
      assert.equal(document.version(), '3.0.0');
      const server = document.servers().get('rabbitmq');
      assert.ok(server, 'server rabbitmq');
      assert.equal(server.protocol(), 'amqp');
      assert.equal(server.host(), '{host}');
      assert.ok(server.variables().get('host'), 'host variable');
    });

    it('describes the topic exchange, its routing-key address and the parameters EVENTS.md lists', () => {
      const channel = document.channels().get('transactionEvents');
      assert.ok(channel, 'channel transactionEvents');
      assert.equal(channel.address(), '{domain}.{status}.{provider}');
      const amqp = channel.bindings().get('amqp')!.value();
      assert.equal(amqp.is, 'routingKey');
      assert.deepEqual(
        { name: amqp.exchange.name, type: amqp.exchange.type, durable: amqp.exchange.durable },
        { name: DEFAULT_EXCHANGE, type: 'topic', durable: true },
      );
      const enums = Object.fromEntries(
        channel
          .parameters()
          .all()
          .map((p) => [p.id(), p.schema()?.enum()]),
      );
      assert.deepEqual(enums, {
        domain: ['payment', 'topup'],
        status: [...EVENT_STATUSES],
        provider: ['s88pay', 'mcpayment', 'nicepay', 'sidopulsa', 'ppob', 'snap'],
      });
      assert.deepEqual(
        channel
          .messages()
          .all()
          .map((m) => m.name()),
        ['TransactionEvent'],
      );
    });

    it('describes the unrouted holding queue', () => {
      const channel = document.channels().get('unroutedEvents');
      assert.ok(channel, 'channel unroutedEvents');
      assert.equal(channel.address(), `${DEFAULT_EXCHANGE}.unrouted`);
      const amqp = channel.bindings().get('amqp')!.value();
      assert.equal(amqp.is, 'queue');
      assert.equal(amqp.queue.name, `${DEFAULT_EXCHANGE}.unrouted`);
      assert.equal(amqp.queue.durable, true);
    });

    it('has the gateway send TransactionEvent persistently', () => {
      const operation = document.operations().get('publishTransactionEvent');
      assert.ok(operation, 'operation publishTransactionEvent');
      assert.equal(operation.action(), 'send');
      assert.deepEqual(
        operation
          .channels()
          .all()
          .map((c) => c.id()),
        ['transactionEvents'],
      );
      assert.deepEqual(
        operation
          .messages()
          .all()
          .map((m) => m.name()),
        ['TransactionEvent'],
      );
      assert.equal(operation.bindings().get('amqp')!.value().deliveryMode, 2);
    });

    it('declares the message: content type, headers, correlation id and the JSON Schema payload', () => {
      assert.equal(message.contentType(), 'application/cloudevents+json');
      const headers = message.headers()!.json() as Json;
      // traceparent / tracestate: only when the gateway exports traces (docs/events.md).
      assert.deepEqual(Object.keys(headers.properties).sort(), [
        'provider',
        'schema-version',
        'traceparent',
        'tracestate',
      ]);
      assert.deepEqual(headers.required, ['provider', 'schema-version']);
      assert.equal(message.correlationId()!.location(), '$message.payload#/id');
      const bindings = message.bindings().get('amqp')!.value();
      assert.equal(bindings.contentEncoding, 'utf-8');
      assert.ok(bindings.messageType, 'messageType');
      // The payload is the JSON Schema file, resolved by the parser.
      const payload = message.payload()!.json() as Json;
      assert.equal(payload.title, schema.title);
      assert.deepEqual(payload.required, schema.required);
      assert.equal(payload.properties.specversion.const, '1.0');
    });

    it('gives an example that satisfies the schema and is exactly what the code builds from the NICEPAY sample', () => {
      const [example] = message.examples().all();
      assert.ok(example, 'an example');
      const payload = example.payload() as Json;
      assert.ok(validateEvent(payload), errorsOf(validateEvent));

      // Built by the gateway's own mapper from the OpenAPI document's NICEPAY sample.
      const config = loadConfig({ NICEPAY_IMID: 'IONPAYTEST', NICEPAY_MERCHANT_KEY: 'k' });
      const transaction = new NicepayProvider(config).normalize(
        NICEPAY_VA_DEPOSIT_SAMPLE as unknown as NicepayNotificationDto,
        { account: 'IONPAYTEST', fields: NICEPAY_VA_DEPOSIT_SAMPLE, verification: '' },
      );
      const built = buildTransactionEvent({
        provider: 'nicepay',
        account: 'IONPAYTEST',
        callbackId: payload.data.callbackId,
        receivedAt: new Date(payload.data.receivedAt),
        transaction,
      });
      assert.deepEqual(
        payload,
        JSON.parse(renderPayload(built.body, { previousStatus: null, transactionVersion: 1 })),
      );
      assert.deepEqual(example.headers(), { provider: 'nicepay', 'schema-version': '1' });
      assert.equal(
        payload.id,
        eventIdFor('nicepay', 'IONPAYTEST', NICEPAY_VA_DEPOSIT_SAMPLE.tXid, 'succeeded'),
      );
    });

    it('agrees with the raw YAML (the $ref points at the schema file beside it)', () => {
      const raw = parseYaml(readFileSync(ASYNCAPI_FILE, 'utf8'));
      assert.equal(raw.asyncapi, '3.0.0');
      assert.deepEqual(raw.components.messages.TransactionEvent.payload, {
        $ref: './transaction-event.schema.json',
      });
    });
  });

  describe('the JSON Schema', () => {
    const valid = (): Json => structuredClone(message.examples().all()[0].payload() as Json);

    it('refuses an amount that is a number (money is a decimal string)', () => {
      const event = valid();
      event.data.amount = 150000;
      assert.equal(validateEvent(event), false);
      assert.ok(validateEvent.errors!.some((e) => e.instancePath === '/data/amount'));
    });

    it('is a tolerant reader for consumers: additive fields are accepted, transactionVersion and its key are required', () => {
      const extra = valid();
      extra.data.amountMinor = 15000000;
      const extraTop = { ...extra, dataschema: 'x' };
      assert.equal(validateAsConsumer(extraTop), true, JSON.stringify(validateAsConsumer.errors));
      for (const field of ['transactionVersion', 'transactionKey', 'previousStatus']) {
        const missing = valid();
        delete missing.data[field];
        assert.equal(validateAsConsumer(missing), false, `${field} is required`);
      }
    });

    it('refuses drift: an unknown field, a missing field, an unknown status or a bad time', () => {
      const extra = valid();
      extra.data.amountMinor = 15000000;
      assert.equal(validateEvent(extra), false, 'unknown data field');
      const extraTop = { ...valid(), dataschema: 'x' };
      assert.equal(validateEvent(extraTop), false, 'unknown top-level field');
      const missing = valid();
      delete missing.data.fee;
      assert.equal(validateEvent(missing), false, 'missing fee');
      const status = valid();
      status.data.status = 'paid';
      assert.equal(validateEvent(status), false, 'status outside the closed set');
      const time = valid();
      time.time = '21/11/2025 12:05';
      assert.equal(validateEvent(time), false, 'time not RFC 3339');
      const amount = valid();
      amount.data.amount = '1.5e3';
      assert.equal(validateEvent(amount), false, 'amount not a plain decimal');
    });

    it('accepts what EVENTS.md allows: null amount, fee and ids, a topup product', () => {
      const event = valid();
      Object.assign(event.data, {
        amount: null,
        fee: '-2500.50',
        providerTransactionId: null,
        paymentMethod: null,
        channel: null,
        product: { code: 'TSEL10', destination: '081234567890', serialNumber: null },
      });
      assert.ok(validateEvent(event), errorsOf(validateEvent));
    });
  });

  describe('real events published by a running gateway', () => {
    let bed: TestBed;
    let routingKey: RegExp;
    let validateHeaders: ValidateFunction;
    const parameterLocations: Record<string, string | undefined> = {};

    before(async () => {
      bed = await createTestBed('postgres');
      const channel = document.channels().get('transactionEvents')!;
      const parameters = Object.fromEntries(
        channel
          .parameters()
          .all()
          .map((p) => [p.id(), p]),
      );
      for (const [name, p] of Object.entries(parameters)) parameterLocations[name] = p.location();
      // The address with each {parameter} replaced by its allowed values.
      routingKey = new RegExp(
        `^${channel
          .address()!
          .split(/(\{\w+\})/)
          .map((part) => {
            const name = /^\{(\w+)\}$/.exec(part)?.[1];
            if (!name) return escapeRegExp(part);
            const values = parameters[name].schema()!.enum() as string[];
            return `(?<${name}>${values.map(escapeRegExp).join('|')})`;
          })
          .join('')}$`,
      );
      validateHeaders = newAjv().compile(message.headers()!.json());
    });
    after(() => bed?.teardown());

    it('are declared on the broker as the document says (topic exchange, durable quorum holding queue)', async () => {
      const declared = document
        .channels()
        .get('transactionEvents')!
        .bindings()
        .get('amqp')!
        .value();
      const holding = document.channels().get('unroutedEvents')!.bindings().get('amqp')!.value();
      const connection = await amqplib.connect(AMQP_URL);
      try {
        // Re-declaring with different arguments closes the channel (406): equivalence check.
        const channel = await connection.createChannel();
        await channel.assertExchange(bed.exchange, declared.exchange.type, {
          durable: declared.exchange.durable,
          autoDelete: declared.exchange.autoDelete,
          alternateExchange: `${bed.exchange}.unrouted`,
        });
        const queue = holding.queue.name.replace(DEFAULT_EXCHANGE, bed.exchange);
        await channel.assertQueue(queue, {
          durable: holding.queue.durable,
          exclusive: holding.queue.exclusive,
          autoDelete: holding.queue.autoDelete,
          arguments: { 'x-queue-type': holding.queue['x-queue-type'] },
        });
        await channel.close();
      } finally {
        await connection.close();
      }
    });

    it('from every provider (NICEPAY deposit and reversal, MCPayment, S88Pay, Sidopulsa, PPOB) match the schema and the AMQP properties declared', async () => {
      const url = bed.gateway.url;
      const deposit = nicepayNotification({ referenceNo: 'ORD-CONTRACT-1' });
      const reversal = nicepayNotification({
        tXid: deposit.tXid,
        referenceNo: deposit.referenceNo,
        status: '1',
      });
      const card = nicepayNotification(
        { referenceNo: 'ORD-CONTRACT-2', payMethod: '01', bankCd: '', fee: '2500.00' },
        NICEPAY.merchants[1],
      );
      const paid = mcpaymentCallback();
      const expired = mcpaymentCallback({ transaction_status: 'EXPIRED' });
      const s88pay = s88payPayload();
      const sidopulsaRef = uniqueRef('C');
      const sidopulsa = (statuscode: string, sn: string) => ({
        serverid: uniqueRef('4'),
        price: '9000',
        clientid: sidopulsaRef,
        statuscode,
        kp: 'TT5',
        msisdn: '081299999999',
        sn,
        message: `TRX TT5.081299999999 ${statuscode === '1' ? 'BERHASIL' : 'GAGAL'}, HRG:9000 SN: ${sn}. SISA SALDO:5550 CLIENTID=${sidopulsaRef}.`,
      });
      const ppobRef = uniqueRef('');
      const ppob = (status: string, sn: string) => ({
        ref_id: ppobRef,
        status,
        sn,
        code: 'S10',
        destination: '08123214214',
      });
      const sends: Array<[string, () => Promise<Response>]> = [
        ['payment.succeeded.nicepay', () => postForm(`${url}/callbacks/nicepay`, deposit)],
        ['payment.reversed.nicepay', () => postForm(`${url}/callbacks/nicepay`, reversal)],
        ['payment.succeeded.nicepay', () => postForm(`${url}/callbacks/nicepay`, card)],
        [
          'payment.succeeded.mcpayment',
          () => postMcpayment(`${url}/callbacks/mcpayment`, paid, mcpaymentSignature(paid)),
        ],
        [
          'payment.expired.mcpayment',
          () => postMcpayment(`${url}/callbacks/mcpayment`, expired, mcpaymentSignature(expired)),
        ],
        [
          'payment.succeeded.s88pay',
          () => postJson(`${url}/callbacks/s88pay`, s88payCallback(s88pay)),
        ],
        // One transaction (the same clientid): failed → succeeded is a transition, not the reverse.
        [
          'topup.failed.sidopulsa',
          () =>
            fetch(
              callbackUrl(url, 'sidopulsa', sidopulsa('2', 'Trx gagal'), {
                token: SIDOPULSA.token,
              }),
            ),
        ],
        [
          'topup.succeeded.sidopulsa',
          () =>
            fetch(
              callbackUrl(url, 'sidopulsa', sidopulsa('1', 'OPTR9039938DS'), {
                token: SIDOPULSA.token,
              }),
            ),
        ],
        [
          'topup.pending.ppob',
          () => fetch(callbackUrl(url, 'ppob', ppob('Pending', ''), { token: PPOB.token })),
        ],
        [
          'topup.succeeded.ppob',
          () =>
            fetch(
              callbackUrl(url, 'ppob', ppob('Success', '0512345678901234'), { token: PPOB.token }),
            ),
        ],
      ];
      for (const [routingKey, send] of sends) {
        const res = await send();
        assert.equal(res.status, 200, `${routingKey}: ${await res.text()}`);
      }

      const messages: ConsumeMessage[] = await bed.tap.waitFor(sends.length);
      assert.equal(messages.length, sends.length);
      assert.deepEqual(
        messages.map((m) => m.fields.routingKey).sort(),
        sends.map(([routingKey]) => routingKey).sort(),
      );

      const operationBindings = document.operations().get('publishTransactionEvent')!.bindings();
      const messageBindings = message.bindings().get('amqp')!.value();
      for (const m of messages) {
        const key = m.fields.routingKey;
        const text = m.content.toString(messageBindings.contentEncoding);
        const body: Json = JSON.parse(text);
        const headers: Json = m.properties.headers ?? {};

        assert.ok(
          validateEvent(body),
          `${key}: body does not match the schema: ${errorsOf(validateEvent)}`,
        );
        assert.ok(
          validateHeaders(headers),
          `${key}: headers do not match: ${errorsOf(validateHeaders)}`,
        );
        assert.equal(m.fields.exchange, bed.exchange);
        assert.equal(m.properties.contentType, message.contentType());
        assert.equal(m.properties.contentEncoding, messageBindings.contentEncoding);
        assert.equal(
          m.properties.deliveryMode,
          operationBindings.get('amqp')!.value().deliveryMode,
        );
        assert.equal(
          m.properties.messageId,
          atLocation(message.correlationId()!.location()!, { headers, payload: body }),
          'messageId is the correlation id (the event id)',
        );
        assert.equal(m.properties.type, body.type);
        assert.equal(typeof m.properties.timestamp, 'number');
        assert.equal(m.properties.appId, bed.gateway.config.serviceName);

        const route = routingKey.exec(key);
        assert.ok(route?.groups, `${key} does not match ${routingKey}`);
        assert.equal(`${route.groups.domain}.${route.groups.status}`, body.type);
        for (const [name, location] of Object.entries(parameterLocations)) {
          if (!location) continue;
          assert.equal(
            atLocation(location, { headers, payload: body }),
            route.groups[name],
            `${key}: parameter ${name} at ${location}`,
          );
        }
      }

      const bodies = messages.map((m) => JSON.parse(m.content.toString('utf8')));
      const nicepayCard = bodies.find((b) => b.subject === 'ORD-CONTRACT-2');
      assert.equal(nicepayCard.data.paymentMethod, 'card');
      assert.equal(nicepayCard.data.fee, '2500', 'canonical form (NICEPAY sent 2500.00)');
      const topups = bodies.filter((b) => b.type.startsWith('topup.'));
      assert.equal(topups.length, 4);
      for (const topup of topups) assert.equal(typeof topup.data.product, 'object');
      assert.ok(
        topups.every((b) => b.data.product !== null),
        'topup events carry a product',
      );
      assert.ok(
        bodies.filter((b) => b.type.startsWith('payment.')).every((b) => b.data.product === null),
        'payment events carry no product',
      );
    });
  });
});
