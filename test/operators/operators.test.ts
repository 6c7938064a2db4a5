/**
 * Named operators (OPERATORS_FILE): each key is one operator with a role; the shared
 * ADMIN_API_KEY is the operator `admin`; the trusted proxy's identity header names an operator;
 * a viewer reads but every action is refused by the API itself; the audit row names who; the file
 * is re-read without a restart; Swagger UI's document carries no key scheme and no secret.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OperatorDirectory } from '../../src/operators/operator-directory.js';
import { parseOperators } from '../../src/config/operators-file.js';
import { ADMIN_KEY, waitUntil } from '../admin/admin-support.js';
import { createTestBed, type TestBed } from '../support/gateway.js';

export const OPERATOR_KEY = 'alice-operator-key-0123456789abcdefghij';
export const VIEWER_KEY = 'bob-viewer-key-0123456789abcdefghijklm';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function operatorsYaml(extra = ''): string {
  return [
    'operators:',
    `  - { name: alice, role: operator, keySha256: ${sha256(OPERATOR_KEY)} }`,
    `  - { name: bob, role: viewer, keySha256: ${sha256(VIEWER_KEY)} }`,
    '  - { name: carol@example.com, role: operator }',
    extra,
  ].join('\n');
}

describe('named operators', () => {
  let bed: TestBed;
  let dir: string;
  let file: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-operators-'));
    file = join(dir, 'operators.yaml');
    writeFileSync(file, operatorsYaml());
    bed = await createTestBed('sqlite', {
      ADMIN_API_KEY: ADMIN_KEY,
      OPERATORS_FILE: file,
      TRUSTED_PROXIES: '127.0.0.1',
      OPERATOR_IDENTITY_HEADER: 'X-Forwarded-User',
    });
  });
  after(async () => {
    await bed?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, headers: Record<string, string>) => {
    const res = await fetch(`${bed.gateway.managementUrl}${path}`, { method, headers });
    return { status: res.status, text: await res.text() };
  };
  const lastAudit = async (): Promise<Record<string, unknown>> => {
    const [row] = await bed.db.query<{ details: string; key_fingerprint: string }>(
      'SELECT details, key_fingerprint FROM admin_audit ORDER BY at DESC LIMIT 1',
    );
    return { ...(JSON.parse(row.details) as Record<string, unknown>), fp: row.key_fingerprint };
  };
  const republish = `/admin/events/${randomUUID()}/republish`;

  it('a named operator reads and acts; the audit row names them', async () => {
    assert.equal(
      (await call('GET', '/admin/callbacks', { 'x-admin-key': OPERATOR_KEY })).status,
      200,
    );
    await waitUntil(async () => (await lastAudit()).status === 200, 'audit row completed');
    const row = await lastAudit();
    assert.equal(row.operator, 'alice');
    assert.equal(row.via, 'key');
    // An action on a missing event: past the guard (404, not 401/403).
    assert.equal((await call('POST', republish, { 'x-admin-key': OPERATOR_KEY })).status, 404);
  });

  it('a viewer reads, and every action is refused with 403 by the API', async () => {
    const bearer = { authorization: `Bearer ${VIEWER_KEY}` };
    assert.equal((await call('GET', '/admin/callbacks', bearer)).status, 200);
    for (const path of [
      republish,
      `/admin/callbacks/${randomUUID()}/renormalize`,
      `/admin/verifications/${randomUUID()}/verify`,
      `/admin/verifications/${randomUUID()}/publish`,
    ]) {
      const answer = await call('POST', path, bearer);
      assert.equal(answer.status, 403, path);
      assert.match(answer.text, /bob has the role viewer/);
    }
  });

  it('the shared ADMIN_API_KEY is the operator admin; a wrong key is 401', async () => {
    assert.equal((await call('GET', '/admin/callbacks', { 'x-admin-key': ADMIN_KEY })).status, 200);
    await waitUntil(async () => (await lastAudit()).via === 'shared-key', 'audit row');
    assert.equal((await lastAudit()).operator, 'admin');
    const wrong = await call('GET', '/admin/callbacks', { 'x-admin-key': `${OPERATOR_KEY}x` });
    assert.equal(wrong.status, 401);
  });

  it("the trusted proxy's identity header names a listed operator only", async () => {
    const carol = await call('GET', '/admin/callbacks', {
      'x-forwarded-user': 'carol@example.com',
    });
    assert.equal(carol.status, 200);
    await waitUntil(async () => (await lastAudit()).via === 'proxy', 'audit row');
    assert.equal((await lastAudit()).operator, 'carol@example.com');
    assert.equal((await lastAudit()).fp, 'proxy');
    const stranger = await call('GET', '/admin/callbacks', { 'x-forwarded-user': 'mallory' });
    assert.equal(stranger.status, 401);
  });

  it('the file is re-read without a restart: a removed operator is refused, a broken file changes nothing', async () => {
    writeFileSync(file, 'operators:\n  - { name: alice, role: viewer }\n');
    await waitUntil(
      async () =>
        (await call('GET', '/admin/callbacks', { 'x-admin-key': VIEWER_KEY })).status === 401,
      'bob removed',
    );
    writeFileSync(file, 'operators: [ { name: alice, role: boss } ]');
    assert.equal(bed.gateway.app.get(OperatorDirectory).reload('SIGHUP'), false);
    // The last valid file is still in force: carol is gone, nobody new appeared.
    const carol = await call('GET', '/admin/callbacks', {
      'x-forwarded-user': 'carol@example.com',
    });
    assert.equal(carol.status, 401);
    writeFileSync(file, operatorsYaml());
    assert.equal(bed.gateway.app.get(OperatorDirectory).reload('SIGHUP'), true);
  });

  it('Swagger UI gets no key scheme and no configured secret; /docs-json keeps the scheme', async () => {
    const init = await call('GET', '/docs/swagger-ui-init.js', {});
    assert.equal(init.status, 200);
    assert.doesNotMatch(init.text, /X-Admin-Key"|securitySchemes":\{"admin"/);
    for (const secret of [ADMIN_KEY, OPERATOR_KEY, VIEWER_KEY, sha256(OPERATOR_KEY)])
      assert.ok(!init.text.includes(secret));
    assert.doesNotMatch(init.text, /persistAuthorization":true/);
    const json = JSON.parse((await call('GET', '/docs-json', {})).text);
    assert.equal(json.components.securitySchemes.admin.name, 'X-Admin-Key');
  });
});

describe('the operators file is validated, never echoing a value', () => {
  it('names each problem by entry and field', () => {
    const { problems } = parseOperators('ops.yaml', {
      operators: [
        { name: 'admin', role: 'operator' },
        { name: 'x', role: 'root', keySha256: 'SECRET' },
        { name: 'x', role: 'viewer', other: 1 },
      ],
    });
    assert.deepEqual(problems, [
      'ops.yaml: operators[0].name: "admin" is the shared ADMIN_API_KEY\'s name',
      'ops.yaml: operators[1].role: must be viewer or operator',
      'ops.yaml: operators[1].keySha256: must be 64 lowercase hex digits (SHA-256 of the key)',
      'ops.yaml: operators[2]: unknown field other',
    ]);
  });
});
