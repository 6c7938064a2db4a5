/**
 * Requests generated from the committed OpenAPI document: for every route and method, one
 * request per (input, bad value) with every other input at a plausible value. Inputs are the
 * document's path, query and header parameters and each top-level field of the request body
 * (JSON or form), plus whole-body variants. A route added to the document is covered without
 * touching the tests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OPENAPI = fileURLToPath(new URL('../../../openapi/openapi.json', import.meta.url));

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: Schema;
}
interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, Schema>;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export interface GeneratedRequest {
  method: string;
  /** The route template, e.g. `/topups/{provider}/{reference}`. */
  route: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What was made bad, for the assertion message. */
  what: string;
}

/** Bad values for any text input: controls, encodings, sizes, numbers, dates, structure. */
export const BAD_VALUES = [
  '\u0000',
  'a\u0000b',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u2028',
  '\ud800',
  '',
  ' ',
  'x'.repeat(5000),
  '%',
  '%00',
  '../..',
  '-1',
  '1e309',
  '9'.repeat(40),
  'NaN',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  "' OR 1=1 --",
  '[]',
  '{"a":1}',
  '\u{1F4A9}',
];

/** Bad values for a JSON body field that are not strings. */
const BAD_JSON_VALUES: unknown[] = [null, 0, -1, 1e308, true, [], {}, ['\u0000'], { a: '\u0000' }];

/** Header values cannot hold controls on the wire: only text that is wrong. */
const BAD_HEADER_VALUES = ['', 'x'.repeat(5000), "' OR 1=1 --", '%00', 'é'];

/** A plausible value for a named input, so that the one bad input is the only thing wrong. */
function plausible(name: string, schema: Schema | undefined): string {
  if (schema?.enum?.length) return String(schema.enum[0]);
  if (schema?.example !== undefined && typeof schema.example !== 'object')
    return String(schema.example);
  if (/id$/i.test(name)) return '0b6c8f3e-6a3e-4d8e-9a34-0d2b1f3c4a5e';
  if (name === 'provider') return 'ppob';
  if (name === 'account') return 'default';
  if (name === 'limit') return '10';
  return 'REF-1';
}

/** Percent-encodes any string, lone surrogates included (encodeURIComponent throws on them). */
export const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  return schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!] : schema;
}

/** Every generated request of the committed document. */
export function openApiRequests(adminKey: string): {
  routes: string[];
  requests: GeneratedRequest[];
} {
  const doc = JSON.parse(readFileSync(OPENAPI, 'utf8')) as OpenApiDocument;
  const routes: string[] = [];
  const requests: GeneratedRequest[] = [];
  for (const [route, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      routes.push(`${method.toUpperCase()} ${route}`);
      const parameters = operation.parameters ?? [];
      const content = Object.entries(operation.requestBody?.content ?? {})[0];
      const form = content?.[0] === 'application/x-www-form-urlencoded';
      const fields = content ? (resolve(doc, content[1].schema).properties ?? {}) : {};
      const base: Record<string, unknown> = Object.fromEntries(
        Object.entries(fields).map(([name, schema]) => [name, plausible(name, schema)]),
      );
      const build = (
        what: string,
        values: Record<string, string> = {},
        body: string | undefined = undefined,
      ): GeneratedRequest => {
        let path = route;
        const query = new URLSearchParams();
        const headers: Record<string, string> = { 'x-admin-key': adminKey };
        for (const p of parameters) {
          const value = values[`${p.in}:${p.name}`] ?? plausible(p.name, p.schema);
          if (p.in === 'path') path = path.replace(`{${p.name}}`, encode(value));
          else if (p.in === 'query') query.set(p.name, value);
          else headers[p.name] = value;
        }
        if (content) headers['content-type'] = content[0];
        const search = query.toString();
        return {
          method: method.toUpperCase(),
          route,
          path: search ? `${path}?${search}` : path,
          headers,
          body: content ? (body ?? serialize(base, form)) : undefined,
          what,
        };
      };
      requests.push(build('plausible values'));
      for (const p of parameters) {
        const values = p.in === 'header' ? BAD_HEADER_VALUES : BAD_VALUES;
        for (const bad of values) {
          requests.push(
            build(`${p.in} ${p.name}=${JSON.stringify(bad)}`, { [`${p.in}:${p.name}`]: bad }),
          );
        }
      }
      if (!content) continue;
      for (const field of Object.keys(fields)) {
        for (const bad of [...BAD_VALUES, ...(form ? [] : BAD_JSON_VALUES)]) {
          const body = serialize({ ...base, [field]: bad }, form);
          requests.push(build(`body ${field}=${JSON.stringify(bad)?.slice(0, 40)}`, {}, body));
        }
        requests.push(
          build(`body without ${field}`, {}, serialize({ ...base, [field]: undefined }, form)),
        );
      }
      for (const body of ['', 'null', '[]', '"\\u0000"', '{', `${'['.repeat(5000)}`, '\u0000']) {
        requests.push(build(`whole body ${JSON.stringify(body.slice(0, 20))}`, {}, body));
      }
      requests.push(
        build('an unknown field with a NUL', {}, serialize({ ...base, 'x\u0000': '\u0000' }, form)),
      );
    }
  }
  return { routes, requests };
}

function serialize(body: Record<string, unknown>, form: boolean): string {
  if (!form) return JSON.stringify(body);
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (value !== undefined) params.set(name, String(value));
  }
  return params.toString();
}
