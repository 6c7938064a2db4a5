/**
 * The demo's Swagger page (withLiveExamples) shows no callback operation that can only answer
 * 401: the route without a token of a URL-token provider whose every account has a token is left
 * out; with an account without a token (allowlist only) it stays. No gateway, no browser: the
 * browser run is test/docs/swagger-ui.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenAPIObject } from '@nestjs/swagger';
import { loadConfig } from '../../src/config/gateway-config.js';
import { withLiveExamples } from '../../src/dev/live-examples.js';
import { SIDOPULSA } from '../support/credentials.js';

function callbackRoutes(): OpenAPIObject {
  const query = { name: 'clientid', in: 'query', schema: { type: 'string' } };
  const token = { name: 'token', in: 'path', required: true, schema: { type: 'string' } };
  const routes = (provider: string) => ({
    [`/callbacks/${provider}`]: { get: { parameters: [query] } },
    [`/callbacks/${provider}/{token}`]: { get: { parameters: [token, query] } },
  });
  return {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: { ...routes('sidopulsa'), ...routes('ppob') },
  } as unknown as OpenAPIObject;
}

describe('withLiveExamples: the routes without a token', () => {
  // Sidopulsa with a token (the route without one answers 401), PPOB with an allowlist only.
  const config = loadConfig({
    NODE_ENV: 'test',
    SIDOPULSA_CALLBACK_TOKEN: SIDOPULSA.token,
    SIDOPULSA_ALLOWED_IPS: '127.0.0.1',
    PPOB_ALLOWED_IPS: '127.0.0.1',
  });

  it('are left out where every account has a token, kept where one has none', () => {
    const served = withLiveExamples(callbackRoutes(), config);
    assert.equal(served.paths['/callbacks/sidopulsa'], undefined, 'GET /callbacks/sidopulsa');
    const withToken = served.paths['/callbacks/sidopulsa/{token}'].get!.parameters as Array<{
      name: string;
      example?: unknown;
    }>;
    assert.equal(withToken.find((p) => p.name === 'token')?.example, SIDOPULSA.token);
    assert.ok(served.paths['/callbacks/ppob']?.get, 'GET /callbacks/ppob (no token configured)');
  });

  it('the document it was given is left as it was', () => {
    const document = callbackRoutes();
    withLiveExamples(document, config);
    assert.ok(document.paths['/callbacks/sidopulsa']?.get);
  });
});
