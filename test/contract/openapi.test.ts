import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { generateOpenApi, OPENAPI_FILE, projectRoot } from '../../src/bin/sync-openapi.js';

/** The callback endpoints of GATEWAY.md ("HTTP surface"), as OpenAPI paths. */
const GATEWAY_CALLBACKS: Array<[method: string, path: string]> = [
  ['post', '/callbacks/s88pay'],
  ['post', '/callbacks/mcpayment'],
  ['post', '/callbacks/nicepay'],
  ['get', '/callbacks/sidopulsa'],
  ['get', '/callbacks/sidopulsa/{token}'],
  ['get', '/callbacks/ppob'],
  ['get', '/callbacks/ppob/{token}'],
  // SNAP (issue 26, SNAP.md): the account, then the standard's service paths (docs/snap.md).
  ['post', '/callbacks/snap/{account}/v1.0/transfer-va/payment'],
  ['post', '/callbacks/snap/{account}/v1.0/transfer-va/notify-payment-intrabank'],
  ['post', '/callbacks/snap/{account}/v1.0/debit/notify'],
  ['post', '/callbacks/snap/{account}/v1.0/qr/qr-mpm-notify'],
  ['post', '/callbacks/snap/{account}/v1.0/access-token/b2b'],
  ['get', '/health/live'],
  ['get', '/health/ready'],
];

type OpenApi = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, unknown>>;
};

describe('the committed OpenAPI document (openapi/openapi.json)', () => {
  let generatedText: string;
  let generated: OpenApi;
  let committed: OpenApi;

  before(async () => {
    generatedText = await generateOpenApi();
    generated = JSON.parse(generatedText);
    committed = JSON.parse(readFileSync(join(projectRoot(), OPENAPI_FILE), 'utf8'));
  });

  it('is exactly what the code generates', () => {
    assert.deepEqual(
      committed,
      generated,
      `${OPENAPI_FILE} is out of date with the code: run npm run openapi and commit the result`,
    );
  });

  it('is written stably: 2-space JSON with a trailing newline', () => {
    assert.equal(generatedText, `${JSON.stringify(generated, null, 2)}\n`);
    assert.equal(
      readFileSync(join(projectRoot(), OPENAPI_FILE), 'utf8'),
      generatedText,
      `${OPENAPI_FILE} is not byte-identical to the generated text: run npm run openapi and commit`,
    );
  });

  it('is generated the same way twice (no environment, time or order in it)', async () => {
    assert.equal(await generateOpenApi(), generatedText);
  });

  it('describes every callback endpoint of GATEWAY.md that the app serves', () => {
    assert.match(generated.openapi, /^3\./);
    assert.equal(generated.info.title, 'Payment callback gateway');
    // Providers still being written may not have a controller yet; NICEPAY always does.
    const served = GATEWAY_CALLBACKS.filter(([, path]) => generated.paths[path]);
    assert.ok(
      served.some(([, path]) => path === '/callbacks/nicepay'),
      'POST /callbacks/nicepay is missing',
    );
    for (const [method, path] of served) {
      assert.ok(generated.paths[path][method], `${method.toUpperCase()} ${path} is missing`);
      assert.ok(
        committed.paths[path]?.[method],
        `${method.toUpperCase()} ${path} is not committed`,
      );
    }
    // And no callback endpoint the design does not list.
    const known = new Set(GATEWAY_CALLBACKS.map(([, path]) => path));
    const unknown = Object.keys(generated.paths).filter(
      (path) => path.startsWith('/callbacks/') && !known.has(path),
    );
    assert.deepEqual(unknown, [], 'callback paths not in GATEWAY.md');
  });
});
