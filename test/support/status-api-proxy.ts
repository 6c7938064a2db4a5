import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does with one status-API request instead of passing it on: a canned answer,
 * a redirect, a huge or slow body, or `null` (pass it to the sandbox).
 */
export type Fault = (request: { path: string; body: string }) =>
  | { status: number; headers?: Record<string, string>; body: string }
  | { redirect: string }
  | { hugeBytes: number }
  | { delayMs: number }
  /** Passes the request on and rewrites the sandbox's JSON answer (a provider that omits facts). */
  | { rewrite: (answer: Record<string, unknown>) => Record<string, unknown> }
  | null;

/**
 * An HTTP relay in front of the provider sandbox's status APIs that can lie, as an attacker in the
 * path or a broken provider would: answer HTML, JSON without the facts, a redirect to another host,
 * a body of hundreds of MB, or answer slowly. It counts requests and the most in flight at once
 * per request body key (`keyOf`), so a test can prove one inquiry at a time per transaction.
 */
export class StatusApiProxy {
  private server: http.Server | null = null;
  private fault: Fault | null = null;
  private readonly inFlight = new Map<string, number>();
  readonly maxInFlight = new Map<string, number>();
  requests: Array<{ path: string; body: string }> = [];
  port = 0;

  constructor(
    private readonly target: string,
    private readonly keyOf: (path: string, body: string) => string = (path) => path,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Applies `fault` to every request from now on (null: pass everything). */
  set(fault: Fault | null): void {
    this.fault = fault;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async handle(
    req: http.IncomingMessage,
    body: string,
    res: http.ServerResponse,
  ): Promise<void> {
    const path = req.url ?? '/';
    this.requests.push({ path, body });
    const key = this.keyOf(path, body);
    const now = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, now);
    this.maxInFlight.set(key, Math.max(now, this.maxInFlight.get(key) ?? 0));
    try {
      const fault = this.fault?.({ path, body }) ?? null;
      if (fault && 'redirect' in fault) {
        res.writeHead(302, { location: fault.redirect });
        res.end();
        return;
      }
      if (fault && 'hugeBytes' in fault) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        res.write('{"pad":"');
        let sent = 0;
        while (sent < fault.hugeBytes && !res.destroyed) {
          if (!res.write(chunk))
            await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
          sent += chunk.length;
        }
        if (!res.destroyed) res.end('"}');
        return;
      }
      if (fault && 'status' in fault) {
        res.writeHead(fault.status, fault.headers ?? { 'content-type': 'application/json' });
        res.end(fault.body);
        return;
      }
      if (fault && 'delayMs' in fault)
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      const upstream = await fetch(`${this.target}${path}`, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers)
            .filter(([name]) => !['host', 'content-length', 'connection'].includes(name))
            .map(([name, value]) => [
              name,
              Array.isArray(value) ? value.join(', ') : (value ?? ''),
            ]),
        ),
        body: req.method === 'GET' ? undefined : body,
      });
      let text = await upstream.text();
      if (fault && 'rewrite' in fault) {
        text = JSON.stringify(fault.rewrite(JSON.parse(text) as Record<string, unknown>));
      }
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
      });
      res.end(text);
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    } finally {
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
    }
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
