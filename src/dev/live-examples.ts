import type { OpenAPIObject } from '@nestjs/swagger';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { SimulatedRequest } from '../sandbox/simulation.js';
import { registerWithLocalSandbox } from '../sandbox/register-callback.js';
import { SIMULATORS } from './simulators.js';
import { PROVIDERS } from '../providers/index.js';

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  example?: unknown;
  examples?: unknown;
  schema?: Json;
}
interface MediaType {
  schema?: Json;
  example?: unknown;
  examples?: Record<string, { summary?: string; value: unknown }>;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, MediaType> };
}

const LIVE_SUMMARY =
  "Signed just now for this gateway's own credentials: Execute → 2xx and a new event (reload the page for another)";

function setParameterExample(parameter: Parameter, value: string | undefined): void {
  delete parameter.examples;
  if (value === undefined) {
    delete parameter.example;
    if (parameter.schema) delete parameter.schema.example;
    return;
  }
  parameter.example = value;
  parameter.schema = { ...(parameter.schema ?? { type: 'string' }), example: value };
}

function resolveSchema(document: OpenAPIObject, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref;
  if (typeof ref !== 'string') return schema;
  const name = ref.split('/').at(-1)!;
  return document.components?.schemas?.[name] as Json | undefined;
}

/**
 * A form body's schema with exactly the example's fields, each with its example value. Swagger UI
 * builds a form from the schema's properties (not from `examples`), so this is the only way
 * "Try it out" sends the signed values, and nothing the signature did not cover.
 */
export function formSchemaFor(
  document: OpenAPIObject,
  schema: Json | undefined,
  fields: Record<string, string>,
): Json {
  const declared = (resolveSchema(document, schema)?.properties ?? {}) as Record<string, Json>;
  const properties = Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [
      name,
      {
        type: 'string',
        ...(typeof declared[name]?.description === 'string'
          ? { description: declared[name].description }
          : {}),
        example: value,
      },
    ]),
  );
  return { type: 'object', required: Object.keys(fields), properties };
}

/** Every form-urlencoded body with an example gets the schema of that example (formSchemaFor). */
export function formSchemasFromExamples(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item) as Operation[]) {
      const media = operation?.requestBody?.content?.['application/x-www-form-urlencoded'];
      const example = media?.examples ? Object.values(media.examples)[0]?.value : undefined;
      if (media && example && typeof example === 'object') {
        media.schema = formSchemaFor(document, media.schema, example as Record<string, string>);
      }
    }
  }
}

/** `{token}` → value for a path template that matches the concrete path, else null. */
function matchPath(template: string, path: string): Record<string, string> | null {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const name = /^\{(.+)\}$/.exec(want[i])?.[1];
    if (name) params[name] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

/**
 * Puts one simulated request into the document as the example of the operation it targets (of
 * `only`, when given: that path item alone).
 */
export function applyRequest(
  document: OpenAPIObject,
  request: SimulatedRequest,
  only?: string,
): void {
  const url = new URL(request.path, 'http://gateway.invalid');
  const method = request.method.toLowerCase();
  const base = `/callbacks/${request.provider}`;
  for (const [template, item] of Object.entries(document.paths ?? {})) {
    if (template !== base && !template.startsWith(`${base}/`)) continue;
    if (only !== undefined && template !== only) continue;
    const operation = (item as Record<string, Operation>)[method];
    if (!operation) continue;
    const pathParams = matchPath(template, url.pathname);
    // A POST's example belongs to its own path only; a GET's query fits each of its routes.
    if (method !== 'get' && !pathParams) continue;
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in === 'query')
        setParameterExample(parameter, url.searchParams.get(parameter.name) ?? undefined);
      if (parameter.in === 'path' && pathParams)
        setParameterExample(parameter, pathParams[parameter.name]);
      if (parameter.in === 'header') {
        const value = request.headers[parameter.name.toLowerCase()];
        if (value !== undefined) setParameterExample(parameter, value);
      }
    }
    const contentType = request.headers['content-type']?.split(';')[0].trim();
    const media = contentType ? operation.requestBody?.content?.[contentType] : undefined;
    if (!media || request.body === undefined) continue;
    delete media.example;
    if (contentType === 'application/x-www-form-urlencoded') {
      const fields = Object.fromEntries(new URLSearchParams(request.body));
      media.examples = { live: { summary: LIVE_SUMMARY, value: fields } };
      media.schema = formSchemaFor(document, media.schema, fields);
    } else {
      media.examples = { live: { summary: LIVE_SUMMARY, value: JSON.parse(request.body) } };
    }
  }
}

/**
 * Removes the route without a token (`GET /callbacks/sidopulsa`, `GET /callbacks/ppob`) of each
 * URL-token provider whose every account has a token: on this gateway it can only answer 401
 * "token required", so the page offers only the route with the token.
 */
function withoutTokenlessRoutes(document: OpenAPIObject, config: GatewayConfig): void {
  for (const provider of ['sidopulsa', 'ppob'] as const) {
    const settings = config.providers[provider];
    if (!settings?.accounts.every((account) => account.keys.length > 0)) continue;
    const item = document.paths?.[`/callbacks/${provider}`];
    if (!item) continue;
    delete item.get;
    if (!Object.keys(item).some((key) => key !== 'parameters'))
      delete document.paths[`/callbacks/${provider}`];
  }
}

/**
 * The served document with a freshly signed callback (new transaction id) for every enabled
 * provider as its example, built for each page load: "Try it out" → "Execute" gives a 2xx and a
 * new event, on every callback operation the page shows (withoutTokenlessRoutes). Developer tools
 * only (DEV_TOOLS_ENABLED, never in production): the examples carry the URL tokens.
 */
export function withLiveExamples(document: OpenAPIObject, config: GatewayConfig): OpenAPIObject {
  const live = structuredClone(document);
  for (const simulator of Object.values(SIMULATORS)) {
    if (!simulator.configured(config.providers)) continue;
    const request = simulator.simulate(config.providers, 'succeeded');
    // A verified provider's inquiry must find the example's transaction: the local sandbox holds it.
    void registerWithLocalSandbox(config.providers, request);
    applyRequest(live, request);
  }
  for (const provider of PROVIDERS) provider.liveExamples?.(live, config, applyRequest);
  withoutTokenlessRoutes(live, config);
  return live;
}
