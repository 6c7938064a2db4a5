import {
  type CanActivate,
  type ExceptionFilter,
  ForbiddenException,
  type INestApplication,
  RequestMethod,
} from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HOST_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ModulesContainer } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { NextFunction, Request, Response } from 'express';
import { isObservable, lastValueFrom } from 'rxjs';

/** What Nest's guards consumer throws when a guard answers false. */
const FORBIDDEN_MESSAGE = 'Forbidden resource';

/** A route Nest registered that can be answered without Nest's per-request machinery. */
export interface DirectRoute {
  /** `POST`, `GET`, … */
  method: string;
  /** The route's path as Nest registered it, e.g. `/callbacks/nicepay`. */
  path: string;
  controller: object;
  handler: (req: Request, res: Response) => unknown;
  guard: CanActivate;
  /** The status Nest sets before the handler runs (`@HttpCode`, else 201 for POST, 200 otherwise). */
  status: number;
}

/** Why a route stays with Nest, or null when it can be answered directly. */
export type Refusal = string | null;

const STATIC_PATH = /^(?:\/[A-Za-z0-9._~-]+)+$/;

function metadataOf(key: string, target: object): unknown {
  return Reflect.getMetadata(key, target) as unknown;
}

function listed(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function joinPaths(...parts: unknown[]): string {
  const segments = parts
    .flatMap((part) => (typeof part === 'string' ? part.split('/') : []))
    .filter((segment) => segment.length > 0);
  return `/${segments.join('/')}`;
}

/**
 * The routes of controllers mounted under `prefix` that Nest would run as: one guard (a class
 * Nest instantiated), then `@HttpCode`, then the handler with `@Req()` and `@Res()` — a handler
 * that writes its own response. Anything more (a parameter in the path, a pipe, an interceptor, a
 * filter of its own, response headers, versioning, host routing, a second guard, other handler
 * arguments) keeps the route with Nest, which is always registered as well.
 */
export function directRoutes(
  app: INestApplication,
  prefix: string,
  refused: (route: string, why: string) => void = () => undefined,
): DirectRoute[] {
  const routes: DirectRoute[] = [];
  for (const module of app.get(ModulesContainer, { strict: false }).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.instance as Record<string, unknown> | undefined;
      const type = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (!controller || typeof type !== 'function' || !wrapper.isDependencyTreeStatic()) continue;
      const base = metadataOf(PATH_METADATA, type);
      if (typeof base !== 'string' || joinPaths(base).split('/')[1] !== prefix) continue;
      const prototype = Object.getPrototypeOf(controller) as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const requestMethod = metadataOf(METHOD_METADATA, handler);
        if (typeof requestMethod !== 'number') continue;
        const path = joinPaths(base, metadataOf(PATH_METADATA, handler));
        const method = RequestMethod[requestMethod];
        const route = `${method} ${path}`;
        const why = refusal(module, type, name, handler as () => unknown, path, method);
        if (typeof why === 'string') {
          refused(route, why);
          continue;
        }
        routes.push({
          method,
          path,
          controller,
          handler: handler as DirectRoute['handler'],
          guard: why.guard,
          status: why.status,
        });
      }
    }
  }
  return routes;
}

function refusal(
  module: { injectables: Map<unknown, { instance: unknown; isDependencyTreeStatic(): boolean }> },
  type: new (...args: never[]) => object,
  name: string,
  handler: () => unknown,
  path: string,
  method: string,
): string | { guard: CanActivate; status: number } {
  if (!STATIC_PATH.test(path)) return 'a parameter or pattern in the path';
  if (method === 'ALL' || method === 'SEARCH' || method === 'HEAD' || method === 'OPTIONS')
    return `method ${method}`;
  for (const key of [PIPES_METADATA, INTERCEPTORS_METADATA, EXCEPTION_FILTERS_METADATA]) {
    if (listed(metadataOf(key, type)).length + listed(metadataOf(key, handler)).length > 0)
      return `its own ${key.replaceAll('_', '')}`;
  }
  if (listed(metadataOf(HEADERS_METADATA, handler)).length > 0) return 'response headers';
  for (const key of [REDIRECT_METADATA, SSE_METADATA, VERSION_METADATA]) {
    if (metadataOf(key, handler) !== undefined) return key.replaceAll('_', '');
  }
  if (metadataOf(VERSION_METADATA, type) !== undefined) return 'a version';
  if (metadataOf(HOST_METADATA, type) !== undefined) return 'host routing';
  const guards = [
    ...listed(metadataOf(GUARDS_METADATA, type)),
    ...listed(metadataOf(GUARDS_METADATA, handler)),
  ];
  if (guards.length !== 1 || typeof guards[0] !== 'function') return 'not exactly one guard class';
  const wrapper = module.injectables.get(guards[0]);
  const guard = wrapper?.instance as CanActivate | undefined;
  if (!wrapper?.isDependencyTreeStatic() || typeof guard?.canActivate !== 'function')
    return 'a guard Nest did not instantiate once';
  // @Req() at 0 and @Res() at 1, nothing else: the handler writes the response itself.
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, type, name) ?? {}) as Record<
    string,
    { index: number; data?: unknown; pipes?: unknown[] }
  >;
  const expected: Record<string, number> = {
    [`${RouteParamtypes.REQUEST}:0`]: 0,
    [`${RouteParamtypes.RESPONSE}:1`]: 1,
  };
  const keys = Object.keys(args);
  if (
    keys.length !== 2 ||
    !keys.every(
      (key) =>
        key in expected &&
        args[key].index === expected[key] &&
        args[key].data === undefined &&
        (args[key].pipes ?? []).length === 0,
    ) ||
    handler.length !== 2
  )
    return 'arguments other than @Req() and @Res()';
  const code = metadataOf(HTTP_CODE_METADATA, handler);
  const status = typeof code === 'number' ? code : method === 'POST' ? 201 : 200;
  return { guard, status };
}

type Step = (req: Request, res: Response, next: NextFunction) => void;

/** What this module reads of an Express router layer (router 2.x, Express 5). */
interface RouterLayer {
  handle: unknown;
  match(path: string): boolean;
  route?: { path: unknown; _handlesMethod(method: string): boolean };
}

/**
 * True when Express, going on from the layer `self` with the route's own path, would run nothing
 * before that route: no middleware mounted over the path, no earlier route of the same method
 * matching it. Read from the application's router once per route, on its first request (Nest
 * registers its middleware and routes when the application starts).
 */
export function reachedFirst(stack: readonly RouterLayer[], self: unknown, route: DirectRoute) {
  const at = stack.findIndex((layer) => layer.handle === self);
  if (at === -1) return false;
  for (const layer of stack.slice(at + 1)) {
    if (!layer.match(route.path)) continue;
    if (!layer.route) return false;
    if (!layer.route._handlesMethod(route.method.toLowerCase())) continue;
    return layer.route.path === route.path;
  }
  return false;
}

/**
 * A middleware answering the direct routes, mounted with `app.use` before Nest's routes, for the
 * requests Express's router would give them: the method exactly, the path case-insensitively with
 * an optional trailing slash, the query string ignored — and only when nothing else registered
 * would run first (`reachedFirst`). Anything else goes on to Express and Nest. Per request this
 * does what Nest does for such a route — the guard with an execution context (falsy → 403), the
 * status, the handler, any failure to the exception filter — without its chain of closures,
 * awaits and arrays (issue 28). `req.route.path` is the route's path, as Express's router sets it.
 */
export function directRouteStep(routes: readonly DirectRoute[], filter: ExceptionFilter): Step {
  const byKey = new Map<string, DirectRoute>();
  // Two handlers for one method and path: Express runs the first registered.
  for (const route of routes) {
    const key = `${route.method} ${route.path.toLowerCase()}`;
    if (!byKey.has(key)) byKey.set(key, route);
  }
  const routeObjects = new Map(
    routes.map((route) => [
      route,
      { path: route.path, methods: { [route.method.toLowerCase()]: true } },
    ]),
  );
  const reached = new Map<DirectRoute, boolean>();
  const step: Step = (req, res, next) => {
    const url = req.url;
    const query = url.indexOf('?');
    let path = query === -1 ? url : url.slice(0, query);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    // Only printable ASCII is compared case-insensitively here; anything else is Express's call.
    if (path.length === 0 || !/^[\x21-\x7e]+$/.test(path)) return next();
    const route = byKey.get(`${req.method} ${path.toLowerCase()}`);
    if (!route) return next();
    let first = reached.get(route);
    if (first === undefined) {
      const router = (req.app as unknown as { router?: { stack?: RouterLayer[] } }).router;
      first = reachedFirst(router?.stack ?? [], step, route);
      reached.set(route, first);
    }
    if (!first) return next();
    (req as Request & { route: unknown }).route = routeObjects.get(route);
    const context = new ExecutionContextHost(
      [req, res, next],
      route.controller.constructor as never,
      route.handler,
    );
    context.setType('http');
    void answer(route, req, res, context).catch((error: unknown) => {
      try {
        filter.catch(error, context);
      } catch (failure) {
        next(failure);
      }
    });
  };
  // Named, so the application's router stack shows it (and a test can find it there).
  Object.defineProperty(step, 'name', { value: 'directCallbackRoutes' });
  return step;
}

async function answer(
  route: DirectRoute,
  req: Request,
  res: Response,
  context: ExecutionContextHost,
): Promise<void> {
  const answered = route.guard.canActivate(context);
  // As Nest's guards consumer: a boolean, a promise or an observable (its last value); falsy → 403.
  const allowed = isObservable(answered) ? await lastValueFrom(answered) : await answered;
  if (!allowed) throw new ForbiddenException(FORBIDDEN_MESSAGE);
  res.statusCode = route.status;
  await route.handler.call(route.controller, req, res);
}
