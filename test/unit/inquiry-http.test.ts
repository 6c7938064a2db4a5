import assert from 'node:assert/strict';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { type GatewayConfig, loadConfig } from '../../src/config/gateway-config.js';
import { McpaymentStatusApi } from '../../src/providers/mcpayment/mcpayment.status-api.js';
import { NicepayStatusApi } from '../../src/providers/nicepay/nicepay.status-api.js';
import { S88payStatusApi } from '../../src/providers/s88pay/s88pay.status-api.js';
import {
  INQUIRY_MAX_BYTES,
  type ProviderStatusApi,
  requestProvider,
  type StatusQuery,
} from '../../src/verification/status-api.js';
import { PROVIDER_ENV, S88PAY_API } from '../support/credentials.js';
import { inquiryEnv } from '../support/sandbox.js';

/** A local HTTP server that records what reached it. */
interface TestServer {
  url: string;
  host: string;
  requests: Array<{
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
    body: string;
  }>;
  /** Sockets closed by the client (or the server) so far. */
  closedSockets: number;
  server: Server;
}

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const state = { requests: [], closedSockets: 0 } as unknown as TestServer;
  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handler(req, res);
    });
  };
  const server = createServer(listener);
  server.on('connection', (socket) => socket.on('close', () => (state.closedSockets += 1)));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.host = `127.0.0.1:${port}`;
  state.url = `http://${state.host}`;
  state.server = server;
  return state;
}

const post = {
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{}',
};

async function until(condition: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return condition();
}

/** The reason of an `unavailable` answer (fails on anything else). */
function unavailableReason(answer: Awaited<ReturnType<typeof requestProvider>>): string {
  assert.ok('kind' in answer && answer.kind === 'unavailable', JSON.stringify(answer));
  return answer.reason;
}

/** The three status APIs configured (with the test credentials) against one base URL. */
function apis(url: string): {
  config: GatewayConfig;
  all: Array<[ProviderStatusApi, StatusQuery]>;
} {
  const config = loadConfig({ ...PROVIDER_ENV, ...inquiryEnv(url) });
  const base: StatusQuery = {
    account: 'default',
    providerTransactionId: 'IONPAYTEST02202511211205120001',
    merchantReference: 'ORD-1',
    amount: '150000',
    currency: 'IDR',
    paymentMethod: null,
    channel: null,
    raw: {},
  };
  return {
    config,
    all: [
      [new NicepayStatusApi(config), { ...base, account: 'IONPAYTEST', raw: { amt: '150000' } }],
      [
        new McpaymentStatusApi(config),
        {
          ...base,
          raw: {
            external_id: '18457738645627',
            order_id: 'ORD-1',
            transaction_id: '8393c208-8b83-49eb-8c0b-0b50016e7401',
            payment_method: 'BANK_TRANSFER',
            payment_channel: 'BRI',
          },
        },
      ],
      [new S88payStatusApi(config), { ...base, account: S88PAY_API.merchantCode }],
    ],
  };
}

describe('provider HTTP client: redirects are never followed', () => {
  it('a 3xx is unavailable, names the redirect and its host; the other host gets nothing', async () => {
    const elsewhere = await serve((_req, res) => res.end('{"resultCd":"0000"}'));
    for (const status of [301, 302, 303, 307, 308]) {
      const redirecting = await serve((_req, res) => {
        res.writeHead(status, { location: `${elsewhere.url}/steal` });
        res.end();
      });
      const answer = await requestProvider(`${redirecting.url}/inquiry`, post);
      assert.match(
        unavailableReason(answer),
        new RegExp(`HTTP ${status}, a redirect to ${elsewhere.host}`),
      );
      assert.equal(redirecting.requests.length, 1);
    }
    assert.equal(elsewhere.requests.length, 0, 'the redirect target received no request');
  });

  it('every status API: our credentials reach the configured host only', async () => {
    const elsewhere = await serve((_req, res) => res.end('{}'));
    const redirecting = await serve((_req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}/va/inquiry` });
      res.end();
    });
    for (const [api, query] of apis(redirecting.url).all) {
      const answer = await api.inquire(query);
      assert.ok(answer.kind === 'unavailable', `${api.provider}: ${JSON.stringify(answer)}`);
      assert.match(answer.reason, /redirect/);
    }
    assert.equal(redirecting.requests.length, 3);
    const mcpayment = redirecting.requests.find((r) => r.url === '/va/inquiry')!;
    assert.ok(mcpayment.headers['x-req-signature'] && mcpayment.headers.authorization);
    const s88pay = redirecting.requests.find((r) => r.url.endsWith('/transactions/status'))!;
    assert.match(s88pay.body, /^key=/);
    assert.equal(elsewhere.requests.length, 0, 'no x-req-signature, Authorization or key sent on');
  });

  it('a redirect without a usable Location is unavailable too', async () => {
    const redirecting = await serve((_req, res) => {
      res.writeHead(302);
      res.end();
    });
    const answer = await requestProvider(redirecting.url, post);
    assert.match(unavailableReason(answer), /HTTP 302, a redirect: redirects are not followed/);
  });
});

describe('provider HTTP client: answer size cap', () => {
  it('INQUIRY_MAX_BYTES is 1 MiB', () => assert.equal(INQUIRY_MAX_BYTES, 1024 * 1024));

  it('a 200 MB answer is dropped at the cap: the socket is closed early, memory does not grow', async () => {
    const total = 200 * 1024 * 1024;
    let written = 0;
    const huge = await serve((_req, res) => {
      let sent = 0;
      let closed = false;
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < total && !closed) {
          sent += chunk.length;
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!closed) res.end();
      };
      res.on('close', () => (closed = true));
      res.write('{"resultCd":"0000","pad":"');
      pump();
    });
    const before = process.memoryUsage().rss;
    const started = Date.now();
    for (const [api, query] of apis(huge.url).all) {
      const answer = await api.inquire(query);
      assert.ok(answer.kind === 'unavailable', `${api.provider}: ${JSON.stringify(answer)}`);
      assert.match(answer.reason, new RegExp(`answer larger than ${INQUIRY_MAX_BYTES} bytes`));
    }
    const elapsed = Date.now() - started;
    assert.ok(await until(() => huge.closedSockets >= 3), 'the client closed each connection');
    const grown = process.memoryUsage().rss - before;
    assert.ok(elapsed < 5000, `three answers dropped in ${elapsed} ms`);
    assert.ok(written < 3 * 64 * 1024 * 1024, `the server wrote ${written} bytes, not 3 × 200 MB`);
    assert.ok(grown < 100 * 1024 * 1024, `RSS grew ${grown} bytes`);
  });

  it('the cap is a parameter; a declared Content-Length over it is not read at all', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(2000) });
    const declared = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const chunked = await serve((_req, res) => {
      res.writeHead(200);
      res.write(body.slice(0, 1000));
      res.end(body.slice(1000));
    });
    for (const server of [declared, chunked]) {
      const answer = await requestProvider(server.url, post, 5000, 1000);
      assert.match(unavailableReason(answer), /answer larger than 1000 bytes/);
      const fits = await requestProvider(server.url, post, 5000, Buffer.byteLength(body));
      assert.ok(!('kind' in fits), 'an answer of exactly the cap is read');
      assert.equal(fits.status, 200);
      assert.deepEqual(fits.json, JSON.parse(body));
    }
  });
});

describe('provider HTTP client: one time cap for headers and body', () => {
  it('headers then a trickling body: cut at the cap', async () => {
    let stopped = false;
    const trickle = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"resultCd":"0000","pad":"');
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => {
        clearInterval(timer);
        stopped = true;
      });
    });
    const started = Date.now();
    const answer = await requestProvider(trickle.url, post, 300);
    const elapsed = Date.now() - started;
    assert.match(unavailableReason(answer), /no complete answer within 300 ms/);
    assert.ok(elapsed >= 290 && elapsed < 1500, `cut after ${elapsed} ms`);
    assert.ok(await until(() => stopped), 'the server saw the connection close');
  });

  it('no headers at all: cut at the cap', async () => {
    const silent = await serve(() => undefined);
    const answer = await requestProvider(silent.url, post, 200);
    assert.match(unavailableReason(answer), /no complete answer within 200 ms/);
  });

  it('a slow answer that completes in time is read', async () => {
    const slow = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{"resultCd":');
      setTimeout(() => res.end('"0000"}'), 100);
    });
    const answer = await requestProvider(slow.url, post, 2000);
    assert.ok(!('kind' in answer));
    assert.deepEqual(answer.json, { resultCd: '0000' });
  });

  it('nobody listening is unavailable', async () => {
    const gone = await serve(() => undefined);
    gone.server.close();
    gone.server.closeAllConnections();
    await new Promise((r) => setTimeout(r, 20));
    const answer = await requestProvider(gone.url, post, 2000);
    assert.match(unavailableReason(answer), new RegExp(`^${gone.host}: `));
  });
});

describe('status APIs over HTTP: transient bad answers are retried, never taken as a denial', () => {
  const answering = (status: number, body: string, type = 'application/json') =>
    serve((_req, res) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    });

  it('MCPayment: a 200 HTML error page or a non-object JSON is unavailable', async () => {
    for (const [body, type] of [
      ['<html><body>502 Bad Gateway</body></html>', 'text/html'],
      ['[]', 'application/json'],
      ['"ok"', 'application/json'],
      ['null', 'application/json'],
      ['{}', 'application/json'],
    ]) {
      const server = await answering(200, body, type);
      const [api, query] = apis(server.url).all[1];
      const answer = await api.inquire(query);
      assert.equal(answer.kind, 'unavailable', `${body}: ${JSON.stringify(answer)}`);
    }
  });

  it('NICEPAY: an object without resultCd, or no JSON, is unavailable', async () => {
    for (const body of [
      '{"status":"0","amt":"150000"}',
      'Service Unavailable',
      '{"resultCd":"9002"}',
    ]) {
      const server = await answering(200, body);
      const [api, query] = apis(server.url).all[0];
      assert.equal((await api.inquire(query)).kind, 'unavailable', body);
    }
  });

  it('S88Pay: the documented credential refusal is refused; a system error unavailable', async () => {
    const refusal = await answering(
      200,
      JSON.stringify({ success: false, code: 115, message: 'Invalid merchant api key', data: [] }),
    );
    const [api, query] = apis(refusal.url).all[2];
    const refused = await api.inquire(query);
    assert.ok(refused.kind === 'refused', JSON.stringify(refused));
    assert.match(refused.reason, /115/);
    for (const body of ['<html>error</html>', '{"message":"Server Error"}', '{"success":false}']) {
      const server = await answering(200, body);
      const [s88pay, q] = apis(server.url).all[2];
      assert.equal((await s88pay.inquire(q)).kind, 'unavailable', body);
    }
  });
});

describe('provider HTTP client: content codings and cut answers', () => {
  it('a gzip or brotli answer is decoded (the cap counts decoded bytes)', async () => {
    const json = JSON.stringify({ resultCd: '0000', pad: 'x'.repeat(5000) });
    for (const [coding, encode] of [
      ['gzip', gzipSync],
      ['br', brotliCompressSync],
    ] as const) {
      const compressed = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding });
        res.end(encode(json));
      });
      const answer = await requestProvider(compressed.url, post, 2000);
      assert.ok(!('kind' in answer), JSON.stringify(answer));
      assert.equal(answer.text, json);
      assert.equal(compressed.requests[0].headers['accept-encoding'], 'gzip, deflate, br');
      const capped = await requestProvider(compressed.url, post, 2000, 1000);
      assert.match(unavailableReason(capped), /answer larger than 1000 bytes/);
    }
  });

  it('a URL that does not parse is unavailable, and its text is not echoed', async () => {
    const answer = await requestProvider('http://user:s3cret@[not-a-host/status', post, 2000);
    const reason = unavailableReason(answer);
    assert.doesNotMatch(reason, /s3cret/);
    assert.match(reason, /not a URL/);
  });

  it('an unknown content coding is unavailable, not misread', async () => {
    const odd = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'zstd-ish' });
      res.end('????');
    });
    assert.match(unavailableReason(await requestProvider(odd.url, post, 2000)), /content coding/);
  });

  it('an answer cut off mid-body is unavailable', async () => {
    const cut = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"resultCd":"00');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const answer = await requestProvider(cut.url, post, 2000);
    assert.ok('kind' in answer && answer.kind === 'unavailable', JSON.stringify(answer));
    assert.match(answer.reason, new RegExp(`^${cut.host}: `));
  });

  it('the body and the headers reach the provider as given, with their length', async () => {
    const echo = await serve((_req, res) => res.end('{}'));
    const body = '{"tXid":"é"}';
    await requestProvider(
      echo.url,
      { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Sig': 'abc' }, body },
      2000,
    );
    const [seen] = echo.requests;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, body);
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['x-sig'], 'abc');
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
  });
});

describe('provider HTTP client over HTTPS', () => {
  // A self-signed certificate for 127.0.0.1, test only (test/fixtures/tls).
  const tls = {
    key: readFileSync(new URL('../../../test/fixtures/tls/localhost-test.key', import.meta.url)),
    cert: readFileSync(new URL('../../../test/fixtures/tls/localhost-test.crt', import.meta.url)),
  };

  async function serveTls(): Promise<{ url: string; server: HttpsServer; bodies: string[] }> {
    const bodies: string[] = [];
    const server = createHttpsServer(tls, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"resultCd":"0000"}');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `https://127.0.0.1:${port}/status`, server, bodies };
  }

  it('a certificate nobody trusts is unavailable: nothing is sent to that server', async () => {
    const untrusted = await serveTls();
    const answer = await requestProvider(untrusted.url, post, 2000);
    assert.match(unavailableReason(answer), /certificate/i);
    assert.deepEqual(untrusted.bodies, []);
  });

  it('a trusted certificate (NODE_EXTRA_CA_CERTS): the request is made over TLS and answered', async () => {
    const trusted = await serveTls();
    // A process that trusts the test certificate, as a deployment trusts a provider's CA.
    const client = new URL('../../src/verification/status-api.js', import.meta.url).href;
    const script = `import(${JSON.stringify(client)}).then(async ({ requestProvider }) => {
      const answer = await requestProvider(${JSON.stringify(trusted.url)},
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tXid":"T1"}' }, 5000);
      process.stdout.write(JSON.stringify(answer));
    });`;
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        {
          env: {
            ...process.env,
            NODE_EXTRA_CA_CERTS: fileURLToPath(
              new URL('../../../test/fixtures/tls/localhost-test.crt', import.meta.url),
            ),
          },
        },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
    assert.deepEqual(JSON.parse(output), {
      status: 200,
      text: '{"resultCd":"0000"}',
      json: { resultCd: '0000' },
    });
    assert.deepEqual(trusted.bodies, ['{"tXid":"T1"}']);
  });
});
