/**
 * Requests and responses born with Express's prototypes (issue 28): Express's per-request
 * `Object.setPrototypeOf` finds the prototype in place, and everything Express gives a request
 * and a response still works — on a plain Express application, through a mounted
 * sub-application, and on both of the gateway's listeners.
 */
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { expressShapedClasses } from '../src/http/express-shaped-requests.js';
import { gatewayServers } from '../src/http/management-port.js';
import { createTestBed, type TestBed } from './support/gateway.js';
import { nicepayNotification, postForm } from './support/nicepay.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('Express-shaped requests', () => {
  it('are born with the application prototypes, which Express then leaves alone', async () => {
    const app = express();
    const classes = expressShapedClasses(app);
    assert.equal(expressShapedClasses(app), classes, 'once per application');
    assert.equal(app.request, classes.IncomingMessage.prototype);
    assert.equal(app.response, classes.ServerResponse.prototype);
    const seen: { born: boolean; kept: boolean; response: boolean }[] = [];
    const server = createServer(classes, app);
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      seen.push({
        born: Object.getPrototypeOf(req) === app.request,
        kept: false,
        response: Object.getPrototypeOf(res) === app.response,
      });
    });
    app.use(express.json());
    app.post('/echo/:id', (req, res) => {
      seen[seen.length - 1].kept = Object.getPrototypeOf(req) === app.request;
      // Express's request getters and response methods, all from the copied prototypes.
      res
        .status(201)
        .type('application/json')
        .set('X-Seen', req.get('x-probe') ?? 'none')
        .send({
          id: req.params.id,
          body: req.body as unknown,
          ip: req.ip,
          path: req.path,
          query: req.query,
          json: req.is('application/json'),
          isRequest: req instanceof IncomingMessage,
          isResponse: res instanceof ServerResponse,
          app: req.app === app,
        });
    });
    const url = await listen(server);
    try {
      const response = await fetch(`${url}/echo/7?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-probe': 'yes' },
        body: JSON.stringify({ a: 1 }),
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('x-seen'), 'yes');
      assert.deepEqual(await response.json(), {
        id: '7',
        body: { a: 1 },
        ip: '127.0.0.1',
        path: '/echo/7',
        query: { x: '1' },
        json: 'application/json',
        isRequest: true,
        isResponse: true,
        app: true,
      });
      assert.deepEqual(seen, [{ born: true, kept: true, response: true }]);
      const missing = await fetch(`${url}/missing`);
      assert.equal(missing.status, 404, "Express's own not-found answer");
    } finally {
      server.close();
    }
  });

  it('a mounted sub-application still gets its own request members and hands the request back', async () => {
    const app = express();
    const sub = express();
    sub.get('/inner', (req, res) => {
      res.json({ mounted: req.app === sub, baseUrl: req.baseUrl });
    });
    app.use('/sub', sub);
    app.get('/outer', (req, res) => {
      res.json({ app: req.app === app, kept: Object.getPrototypeOf(req) === app.request });
    });
    const server = createServer(expressShapedClasses(app), app);
    const url = await listen(server);
    try {
      assert.deepEqual(await (await fetch(`${url}/sub/inner`)).json(), {
        mounted: true,
        baseUrl: '/sub',
      });
      assert.deepEqual(await (await fetch(`${url}/outer`)).json(), { app: true, kept: true });
    } finally {
      server.close();
    }
  });

  describe('in the gateway', () => {
    let bed: TestBed;
    before(async () => {
      bed = await createTestBed('sqlite', { MANAGEMENT_PORT: '0' });
    });
    after(() => bed.teardown());

    it('both listeners create them, and a callback goes through as before', async () => {
      const instance = bed.gateway.app.getHttpAdapter().getInstance() as {
        request: object;
        response: object;
      };
      const servers = gatewayServers(bed.gateway.app);
      assert.equal(servers.length, 2);
      const born: boolean[] = [];
      for (const server of servers) {
        server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
          born.push(
            Object.getPrototypeOf(req) === instance.request &&
              Object.getPrototypeOf(res) === instance.response,
          );
        });
      }
      const response = await postForm(
        `${bed.gateway.url}/callbacks/nicepay`,
        nicepayNotification(),
      );
      assert.equal(response.status, 200);
      assert.equal((await bed.tap.waitFor(1)).length, 1);
      assert.equal((await fetch(`${bed.gateway.managementUrl}/metrics`)).status, 200);
      assert.deepEqual(born, [true, true]);
    });
  });
});
