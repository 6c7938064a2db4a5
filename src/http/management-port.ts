import { NotFoundException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { expressShapedClasses } from './express-shaped-requests.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config/gateway-config.js';
import { errorBody } from '../common/error.filter.js';

/**
 * Paths served only on the management port once it is separate: operators' and internal tools
 * (admin API and verification admin, top-up orders, metrics, API docs, the operator console,
 * developer tools). Everything else a provider may reach.
 */
const MANAGEMENT_PREFIXES = [
  '/admin',
  '/metrics',
  '/docs',
  '/console',
  '/topups',
  '/payments',
  '/dev',
];
/** Served only on the public port: a management listener never takes a provider callback. */
const PUBLIC_PREFIXES = ['/callbacks'];

const underAny = (path: string, prefixes: string[]) =>
  prefixes.some(
    (prefix) =>
      path === prefix ||
      path.startsWith(`${prefix}/`) ||
      path.startsWith(`${prefix}?`) ||
      // /docs-json and /docs-yaml, the OpenAPI document beside Swagger UI.
      (prefix === '/docs' && /^\/docs-(json|yaml)(\?|$)/.test(path)),
  );

/** Where a path is served when the ports are separate: health answers on both. */
export function portOf(path: string): 'management' | 'public' | 'both' {
  const lower = path.toLowerCase();
  if (underAny(lower, MANAGEMENT_PREFIXES)) return 'management';
  if (underAny(lower, PUBLIC_PREFIXES)) return 'public';
  return lower === '/health' || lower.startsWith('/health/') ? 'both' : 'public';
}

const managementRequests = new WeakSet<IncomingMessage>();
const managementServers = new WeakMap<NestExpressApplication, Server>();

/**
 * Express middleware: a management path on the public port, or a public path on the management
 * port, is answered 404 exactly as an unknown route is (nothing tells a caller it exists).
 * A no-op when the ports are shared.
 */
export function portSeparation(config: GatewayConfig) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (config.managementPort === null) return next();
    const wanted = portOf(req.url ?? '/');
    const onManagement = managementRequests.has(req);
    if (wanted === 'both' || (wanted === 'management') === onManagement) return next();
    const path = (req.url ?? '/').split('?')[0];
    const id = (req as IncomingMessage & { id?: unknown }).id;
    const body = errorBody(
      new NotFoundException(`Cannot ${req.method ?? 'GET'} ${path}`),
      id === undefined ? undefined : String(id),
    );
    res.statusCode = 404;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  };
}

export interface GatewayAddresses {
  public: AddressInfo;
  /** null when everything is on the public port. */
  management: AddressInfo | null;
}

const listenOn = (server: Server, port: number, host: string) =>
  new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });

/**
 * Starts the public listener (Nest's own server) and, when configured, the management listener:
 * a second HTTP server on the same Express application, so one process and one set of
 * providers serve both. The management server closes with the application.
 */
export async function listenGateway(
  app: NestExpressApplication,
  config: GatewayConfig,
  ports: { port?: number; managementPort?: number; host?: string } = {},
): Promise<GatewayAddresses> {
  const host = ports.host ?? config.host;
  await app.listen(ports.port ?? config.port, host);
  const publicAddress = (app.getHttpServer() as Server).address() as AddressInfo;
  if (config.managementPort === null) return { public: publicAddress, management: null };
  const express = app.getHttpAdapter().getInstance() as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void) & { request: object; response: object };
  const server = createServer(expressShapedClasses(express), (req, res) => {
    managementRequests.add(req);
    express(req, res);
  });
  const management = await listenOn(server, ports.managementPort ?? config.managementPort, host);
  managementServers.set(app, server);
  // app.close() closes Nest's server only: take the management listener down with it.
  (app.getHttpServer() as Server).once('close', () => {
    server.close();
    server.closeAllConnections();
  });
  return { public: publicAddress, management };
}

/** Every listener of the application: the public one first. */
export function gatewayServers(app: NestExpressApplication): Server[] {
  const management = managementServers.get(app);
  return [app.getHttpServer() as Server, ...(management ? [management] : [])];
}
