// src/sandbox/sandbox-provider.ts
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One provider played by the sandbox: its API routes and the callbacks it sends. */
export interface SandboxProvider {
  /** Lower-case provider id: `nicepay`. */
  readonly name: string;
  /** Answers the request when it is one of this provider's API routes; false when it is not. */
  handle(req: IncomingMessage, body: Buffer, res: ServerResponse): boolean | Promise<boolean>;
}

/** What a sandbox provider may use from the server that hosts it. */
export interface SandboxContext {
  /** Base URL of the gateway the sandbox sends callbacks to, e.g. `http://127.0.0.1:3000`. */
  readonly gatewayUrl: string;
  /** Sends a callback to the gateway; resolves with its HTTP status. */
  sendCallback(request: {
    method: 'GET' | 'POST';
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }): Promise<number>;
}
