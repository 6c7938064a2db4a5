import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxContext, SandboxProvider } from '../../src/sandbox/sandbox-provider.js';

/** A callback a sandbox provider sent, as the host forwarded it. */
export interface SentCallback {
  method: string;
  path: string;
  status: number;
}

/**
 * A minimal test host for SandboxProviders: one loopback HTTP server asking each provider in
 * turn, and a SandboxContext that forwards callbacks to `gatewayUrl` (settable once the gateway
 * under test is up).
 */
export class SandboxHost {
  gatewayUrl = 'http://127.0.0.1:1';
  readonly callbacks: SentCallback[] = [];
  readonly providers: SandboxProvider[] = [];
  private server: Server | null = null;
  url = '';

  readonly context: SandboxContext;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter must read this host
    const owner = this;
    this.context = {
      get gatewayUrl(): string {
        return owner.gatewayUrl;
      },
      sendCallback: (request) => owner.forward(request),
    };
  }

  private async forward(request: Parameters<SandboxContext['sendCallback']>[0]): Promise<number> {
    const res = await fetch(`${this.gatewayUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    await res.arrayBuffer();
    this.callbacks.push({ method: request.method, path: request.path, status: res.status });
    return res.status;
  }

  /** Adds the providers built by these factories and starts listening on a loopback port. */
  static async start<T extends SandboxProvider[]>(
    ...factories: { [K in keyof T]: (context: SandboxContext) => T[K] }
  ): Promise<{ host: SandboxHost; providers: T }> {
    const sandbox = new SandboxHost();
    const providers = factories.map((factory) => factory(sandbox.context)) as unknown as T;
    sandbox.providers.push(...providers);
    sandbox.server = createServer((req, res) => void sandbox.dispatch(req, res));
    await new Promise<void>((resolve) => sandbox.server!.listen(0, '127.0.0.1', resolve));
    sandbox.url = `http://127.0.0.1:${(sandbox.server.address() as AddressInfo).port}`;
    return { host: sandbox, providers };
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    for (const provider of this.providers) {
      if (await provider.handle(req, body, res)) return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no sandbox route');
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
