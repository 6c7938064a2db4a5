/**
 * MANAGEMENT_PORT: the admin API, metrics and API docs answer only on the management port; the
 * public port serves provider callbacks and health, and the management port takes no callback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/gateway-config.js';
import { portOf } from '../src/http/management-port.js';
import { createTestBed, type TestBed } from './support/gateway.js';
import { nicepayNotification, postForm } from './support/nicepay.js';

const ADMIN_KEY = 'management-port-admin-key-0123456789';

describe('the management port', () => {
  let bed: TestBed;
  const admin = { 'x-admin-key': ADMIN_KEY };

  before(async () => {
    bed = await createTestBed('sqlite', {
      MANAGEMENT_PORT: '0',
      ADMIN_API_KEY: ADMIN_KEY,
      DOCS_ENABLED: 'true',
    });
    assert.notEqual(bed.gateway.managementUrl, bed.gateway.url);
  });
  after(() => bed.teardown());

  it('on the public port, /admin, /metrics, /docs and the OpenAPI JSON answer 404 like an unknown route', async () => {
    for (const path of ['/admin/callbacks', '/metrics', '/docs', '/docs-json', '/console']) {
      const response = await fetch(`${bed.gateway.url}${path}`, { headers: admin });
      assert.equal(response.status, 404, path);
      const body = (await response.json()) as { message: string; requestId?: string };
      assert.equal(body.message, `Cannot GET ${path}`);
      assert.ok(body.requestId, 'the gateway error shape, with the request id');
    }
  });

  it('on the management port they work', async () => {
    const { managementUrl } = bed.gateway;
    const metrics = await fetch(`${managementUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# TYPE gateway_callbacks_total counter$/m);
    const list = await fetch(`${managementUrl}/admin/callbacks?limit=1`, { headers: admin });
    assert.equal(list.status, 200);
    assert.equal((await fetch(`${managementUrl}/docs`)).status, 200);
    const document = (await (await fetch(`${managementUrl}/docs-json`)).json()) as {
      paths: Record<string, unknown>;
    };
    assert.ok(Object.keys(document.paths).some((path) => path.startsWith('/callbacks/')));
  });

  it('a NICEPAY notification is taken on the public port and refused with 404 on the management port', async () => {
    const onManagement = await postForm(
      `${bed.gateway.managementUrl}/callbacks/nicepay`,
      nicepayNotification(),
    );
    assert.equal(onManagement.status, 404);
    const rows = await bed.db.query(`SELECT COUNT(*) AS n FROM callbacks`);
    assert.equal(Number(rows[0].n), 0, 'nothing stored or recorded from the management port');
    assert.equal(
      (await postForm(`${bed.gateway.url}/callbacks/nicepay`, nicepayNotification())).status,
      200,
    );
  });

  it('health answers on both ports (the probes use the public one)', async () => {
    for (const base of [bed.gateway.url, bed.gateway.managementUrl]) {
      assert.equal((await fetch(`${base}/health/live`)).status, 200, base);
      assert.equal((await fetch(`${base}/health/ready`)).status, 200, base);
    }
  });
});

describe('MANAGEMENT_PORT defaults', () => {
  const base = { MCPAYMENT_HASH_KEY: 'k', MCPAYMENT_VERIFY: 'off' };

  it('development and test keep everything on PORT', () => {
    assert.equal(loadConfig({ ...base, NODE_ENV: 'development' }).managementPort, null);
    assert.equal(loadConfig({ ...base, NODE_ENV: 'test' }).managementPort, null);
    assert.equal(loadConfig({ ...base, MANAGEMENT_PORT: '9091' }).managementPort, 9091);
  });

  it('production separates them on 9090 unless MANAGEMENT_PORT says otherwise; equal to PORT shares', () => {
    const production = { ...base, NODE_ENV: 'production', SQLITE_PATH: '/tmp/x.sqlite' };
    assert.equal(loadConfig(production).managementPort, 9090);
    assert.equal(loadConfig({ ...production, MANAGEMENT_PORT: '8081' }).managementPort, 8081);
    assert.equal(
      loadConfig({ ...production, PORT: '8080', MANAGEMENT_PORT: '8080' }).managementPort,
      null,
    );
  });

  it('routes: callbacks public, operator paths management, health both', () => {
    assert.equal(portOf('/callbacks/nicepay'), 'public');
    assert.equal(portOf('/health/ready'), 'both');
    for (const path of [
      '/admin',
      '/admin/callbacks?x=1',
      '/metrics',
      '/docs',
      '/docs/swagger-ui.css',
    ])
      assert.equal(portOf(path), 'management', path);
    for (const path of ['/docs-json', '/console/', '/topups', '/dev/sign/nicepay', '/METRICS'])
      assert.equal(portOf(path), 'management', path);
    assert.equal(portOf('/metricsx'), 'public');
  });
});
