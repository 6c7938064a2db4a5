import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathOf, sendJson } from './sandbox-http.js';
import type { SandboxContext, SandboxProvider } from './sandbox-provider.js';

export type SandboxProviderFactory = (context: SandboxContext) => SandboxProvider;

/** Largest request the sandbox reads (provider API requests are a few hundred bytes). */
const MAX_BODY = 1024 * 1024;
const CALLBACK_TIMEOUT_MS = 10_000;

export interface SandboxOptions {
  providers: SandboxProviderFactory[];
  /** Where callbacks go; may be set later with `setGatewayUrl` (the gateway may start after). */
  gatewayUrl?: string;
  port?: number;
  host?: string;
  /** Told about each request and callback (the CLI prints them); silent by default. */
  log?: (line: string) => void;
}

export interface RunningSandbox {
  /** Base URL, e.g. `http://127.0.0.1:4010`: every *_API_URL of the gateway points here. */
  readonly url: string;
  readonly port: number;
  readonly providers: readonly SandboxProvider[];
  /** The provider played under `name`, as its own class (tests use its methods). */
  provider<T extends SandboxProvider>(name: string): T;
  setGatewayUrl(url: string): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The provider sandbox: one plain HTTP server that plays every listed provider's API (each checks
 * authentication like the real one) and sends the providers' callbacks to the gateway. Port 0
 * picks a free port (tests).
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  let gatewayUrl = (options.gatewayUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const log = options.log ?? (() => undefined);
  const context: SandboxContext = {
    get gatewayUrl() {
      return gatewayUrl;
    },
    async sendCallback(request) {
      const response = await fetch(`${gatewayUrl}${request.path}`, {
        method: request.method,
        headers: request.headers,
        body: request.method === 'GET' ? undefined : request.body,
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      log(
        `callback ${request.method} ${gatewayUrl}${request.path.split('?')[0]} → ${response.status}`,
      );
      return response.status;
    },
  };
  const providers = options.providers.map((factory) => factory(context));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === null) return sendJson(res, 413, { message: 'request body too large' });
    for (const provider of providers) {
      if (await provider.handle(req, body, res)) {
        log(`${req.method} ${pathOf(req)} (${provider.name}) → ${res.statusCode}`);
        return;
      }
    }
    if (pathOf(req) === '/' && req.method === 'GET') {
      return sendJson(res, 200, {
        sandbox: 'provider sandbox',
        gatewayUrl,
        providers: providers.map((p) => p.name),
      });
    }
    sendJson(res, 404, { message: `no sandbox route ${req.method} ${pathOf(req)}` });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log(`error on ${req.method} ${pathOf(req)}: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { message: 'sandbox error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    providers,
    provider<T extends SandboxProvider>(name: string): T {
      const found = providers.find((p) => p.name === name);
      if (!found) throw new Error(`The sandbox does not play ${name}`);
      return found as T;
    },
    setGatewayUrl(url) {
      gatewayUrl = url.replace(/\/+$/, '');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
