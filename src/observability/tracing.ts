import {
  type Attributes,
  context,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * OpenTelemetry traces: the HTTP request of a callback, its store, and the publish of its event
 * share one trace, carried across the outbox in the event's `traceparent` (CloudEvents
 * distributed-tracing extension) and to consumers in the AMQP headers.
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: then
 * nothing is registered, the API stays a no-op and the hot path pays one boolean test.
 */

let provider: BasicTracerProvider | null = null;
let tracer: Tracer | null = null;

export interface TracingOptions {
  serviceName: string;
  /** Tests: spans go here (synchronously) instead of the OTLP exporter. */
  exporter?: SpanExporter;
}

/** True when traces are exported; every span helper below is a pass-through otherwise. */
export const tracingEnabled = (): boolean => tracer !== null;

/** Whether the standard variables ask for OTLP trace export. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers the SDK globally: W3C trace context propagation, an AsyncLocalStorage context
 * manager, and a batching OTLP/HTTP exporter configured by the standard OTEL_* variables
 * (endpoint, headers, timeout, OTEL_BSP_*, OTEL_TRACES_SAMPLER, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES).
 */
export function startTracing(options: TracingOptions): void {
  if (provider) return;
  const resource = resourceFromAttributes({ 'service.name': options.serviceName }).merge(
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over SERVICE_NAME.
    detectResources({ detectors: [envDetector] }),
  );
  provider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      options.exporter
        ? new SimpleSpanProcessor(options.exporter)
        : new BatchSpanProcessor(new OTLPTraceExporter()),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = trace.getTracer('payment-callback-gateway');
}

/** Flushes what is buffered and unregisters (graceful shutdown, tests). */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  provider = null;
  tracer = null;
  if (!stopping) return;
  await stopping.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

/**
 * Express middleware for callback routes (mounted after the body parsers, whose stream callbacks
 * would lose the context): a SERVER span continuing the caller's `traceparent`, or a new trace,
 * active for the rest of the request. `route` names the span without URL tokens.
 */
export function traceRequests(route: (req: IncomingMessage) => string) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (!tracer) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const name = `${req.method ?? 'GET'} ${route(req)}`;
    const span = tracer.startSpan(
      name,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method ?? 'GET', 'http.route': route(req) },
      },
      parent,
    );
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/** Runs `work` in an INTERNAL span (child of the active one); just `work()` when tracing is off. */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracer) return work();
  return tracer.startActiveSpan(name, { attributes }, async (span: Span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** W3C trace context of the active span, for an event's `traceparent` / `tracestate`. */
export function activeTraceContext(): { traceparent: string; tracestate?: string } | null {
  if (!tracer) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return null;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

const TRACEPARENT = /"traceparent":"([0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})"/;
const TRACESTATE = /"tracestate":"([^"\\]{1,512})"/;

/** The trace context an event was stored with, read from its CloudEvents JSON. */
function storedContext(payload: string): Context {
  const carrier: Record<string, string> = {};
  const traceparent = TRACEPARENT.exec(payload)?.[1];
  if (!traceparent) return ROOT_CONTEXT;
  carrier.traceparent = traceparent;
  const tracestate = TRACESTATE.exec(payload)?.[1];
  if (tracestate) carrier.tracestate = tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * A PRODUCER span for publishing a stored event, in the trace the event was stored in; `publish`
 * gets the AMQP headers (`traceparent`, `tracestate`) that let consumers continue it.
 */
export function tracedPublish(
  event: { payload: string; routingKey: string; eventId: string },
  exchange: string,
  publish: (headers: Record<string, string>) => Promise<void>,
): Promise<void> {
  if (!tracer) return publish({});
  const parent = storedContext(event.payload);
  const span = tracer.startSpan(
    `publish ${exchange}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': exchange,
        'messaging.rabbitmq.destination.routing_key': event.routingKey,
        'messaging.message.id': event.eventId,
      },
    },
    parent,
  );
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), headers);
  return publish(headers).then(
    () => span.end(),
    (error: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      span.end();
      throw error;
    },
  );
}
