/**
 * OpenTelemetry: a NICEPAY notification sent with a W3C `traceparent` is traced from the HTTP
 * request through its store to the publish of its event, in the caller's trace; the event carries
 * the trace context (CloudEvents `traceparent`) and the AMQP headers carry the publish span's,
 * so a consumer continues the same trace.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  startTracing,
  stopTracing,
  tracingRequested,
  tracingEnabled,
} from '../src/observability/tracing.js';
import { sleep } from './support/broker.js';
import { readRepoFile } from './deploy/deploy-files.js';
import { createTestBed, type TestBed } from './support/gateway.js';
import { nicepayNotification, postForm } from './support/nicepay.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('OpenTelemetry traces', () => {
  const exporter = new InMemorySpanExporter();
  let bed: TestBed;

  before(async () => {
    startTracing({ serviceName: 'gateway-under-test', exporter });
    bed = await createTestBed('sqlite');
  });
  after(async () => {
    await bed.teardown();
    await stopTracing();
  });

  async function spansOf(traceId: string, names: string[]): Promise<ReadableSpan[]> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const spans = exporter
        .getFinishedSpans()
        .filter((span) => span.spanContext().traceId === traceId);
      if (names.every((name) => spans.some((span) => span.name.startsWith(name)))) return spans;
      if (Date.now() > deadline)
        assert.fail(`spans of ${traceId}: ${spans.map((s) => s.name).join(', ')}`);
      await sleep(20);
    }
  }

  it("a notification with a traceparent: request, store and publish spans continue the caller's trace, carried in the event and its AMQP headers", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const response = await postForm(`${bed.gateway.url}/callbacks/nicepay`, nicepayNotification(), {
      traceparent: `00-${traceId}-${callerSpan}-01`,
      tracestate: 'shop=checkout',
    });
    assert.equal(response.status, 200);
    const [message] = await bed.tap.waitFor(1);

    const event = JSON.parse(message.content.toString('utf8')) as Record<string, unknown>;
    const [, eventTrace] = TRACEPARENT.exec(String(event.traceparent)) ?? [];
    assert.equal(eventTrace, traceId, 'the event carries the trace id of the request');
    assert.equal(event.tracestate, 'shop=checkout');
    const headers = message.properties.headers as Record<string, string>;
    const [, headerTrace, publishSpanId] = TRACEPARENT.exec(String(headers.traceparent)) ?? [];
    assert.equal(headerTrace, traceId, 'the AMQP headers carry the same trace');

    const spans = await spansOf(traceId, ['POST /callbacks/nicepay', 'callback store', 'publish']);
    const request = spans.find((span) => span.name === 'POST /callbacks/nicepay')!;
    const store = spans.find((span) => span.name === 'callback store')!;
    const publish = spans.find((span) => span.name.startsWith('publish '))!;
    assert.equal(request.kind, SpanKind.SERVER);
    assert.equal(parentOf(request), callerSpan, 'continues the caller span');
    assert.equal(request.attributes['http.response.status_code'], 200);
    assert.equal(parentOf(store), request.spanContext().spanId);
    assert.equal(publish.kind, SpanKind.PRODUCER);
    assert.equal(publish.name, `publish ${bed.exchange}`);
    assert.equal(publish.attributes['messaging.message.id'], event.id);
    // The publish joins through the event's stored traceparent (the outbox row), not memory.
    assert.equal(parentOf(publish), TRACEPARENT.exec(String(event.traceparent))?.[2]);
    assert.equal(publishSpanId, publish.spanContext().spanId, 'consumers continue the publish');
    assert.equal(publish.resource.attributes['service.name'], 'gateway-under-test');

    const ajv = new Ajv({ allErrors: true, strict: true });
    (addFormats as unknown as typeof addFormats.default)(ajv);
    const validate = ajv.compile(JSON.parse(readRepoFile('openapi/transaction-event.schema.json')));
    assert.ok(validate(event), JSON.stringify(validate.errors));
  });

  it('a notification without one starts a new trace, still carried to the event', async () => {
    const before = bed.tap.messages.length;
    assert.equal(
      (await postForm(`${bed.gateway.url}/callbacks/nicepay`, nicepayNotification())).status,
      200,
    );
    const messages = await bed.tap.waitFor(before + 1);
    const event = JSON.parse(messages.at(-1)!.content.toString('utf8')) as Record<string, unknown>;
    const [, traceId] = TRACEPARENT.exec(String(event.traceparent)) ?? [];
    assert.ok(traceId);
    const spans = await spansOf(traceId, ['POST /callbacks/nicepay', 'callback store', 'publish']);
    const request = spans.find((span) => span.name === 'POST /callbacks/nicepay')!;
    assert.equal(parentOf(request), undefined, 'a root span');
    assert.ok(!('tracestate' in event));
  });

  it('URL tokens never reach a span name (Sidopulsa and PPOB carry theirs in the path)', () => {
    for (const span of exporter.getFinishedSpans()) {
      assert.match(span.name, /^(POST \/callbacks\/(\w+|:provider)|callback store|publish \S+)$/);
    }
  });
});

describe('tracing off', () => {
  it('is off unless an OTLP endpoint is set, and OTEL_SDK_DISABLED wins', () => {
    assert.equal(tracingRequested({}), false);
    assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
    assert.equal(
      tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
      true,
    );
    assert.equal(
      tracingRequested({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: 'true',
      }),
      false,
    );
    assert.equal(tracingEnabled(), false);
  });

  it('events carry no traceparent and nothing is traced', async () => {
    const bed = await createTestBed('sqlite');
    try {
      assert.equal(
        (
          await postForm(`${bed.gateway.url}/callbacks/nicepay`, nicepayNotification(), {
            traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
          })
        ).status,
        200,
      );
      const [message] = await bed.tap.waitFor(1);
      const event = JSON.parse(message.content.toString('utf8')) as Record<string, unknown>;
      assert.ok(!('traceparent' in event));
      assert.ok(!('traceparent' in (message.properties.headers as object)));
    } finally {
      await bed.teardown();
    }
  });
});
