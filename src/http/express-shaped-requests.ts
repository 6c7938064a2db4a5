import { ExpressAdapter } from '@nestjs/platform-express';
import type { NestApplicationOptions } from '@nestjs/common';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';

/**
 * Requests and responses born with Express's prototypes (issue 28).
 *
 * Express gives every request its own methods by `Object.setPrototypeOf(req, app.request)` (and
 * the same for the response) when the request reaches the application. Changing the prototype
 * of a live object is one of the slowest things V8 does: the object changes map, and Node's HTTP
 * code that touches it afterwards (headers, writes, the 'finish' bookkeeping) runs on objects it
 * has not seen before. Measured on this machine (`bench/express-tax.ts`): a POST through Express
 * with body-parser and `res.send` cost 0.17 ms of CPU against 0.03 ms for plain `node:http`,
 * and 0.05 ms when the objects are born with the right prototype.
 *
 * So the HTTP server creates them from classes whose prototypes carry everything Express puts on
 * `app.request` / `app.response` (Express's own request and response members, and the `app`
 * reference), and the application's `request` / `response` are those prototypes: Express's
 * `setPrototypeOf` then finds the prototype already in place, which V8 does not change. Nothing
 * else changes: every Express method, getter and setting is the same function on the same chain,
 * `instanceof IncomingMessage` holds, and a mounted sub-application still swaps prototypes as
 * Express does.
 */
export interface ExpressShapedClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

type ExpressLike = { request: object; response: object };

const shaped = new WeakMap<object, ExpressShapedClasses>();

/** Copies the members of `from`'s prototype chain, down to (not including) `base`, onto `to`. */
function copyChain(from: object, base: object, to: object): void {
  const chain: object[] = [];
  for (let proto: object | null = from; proto && proto !== base;) {
    chain.unshift(proto);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (chain.length > 0 && Object.getPrototypeOf(chain[0]) !== base) {
    throw new Error('the Express prototype does not derive from the Node.js HTTP class');
  }
  for (const proto of chain) {
    for (const key of Reflect.ownKeys(proto)) {
      if (key === 'constructor') continue;
      Object.defineProperty(to, key, Object.getOwnPropertyDescriptor(proto, key)!);
    }
  }
}

/**
 * The request and response classes for an Express application (once per application): after
 * this, `app.request` and `app.response` are their prototypes.
 */
export function expressShapedClasses(app: ExpressLike): ExpressShapedClasses {
  const known = shaped.get(app);
  if (known) return known;
  // No constructors of their own: Node's arguments (the socket; the request and the server's
  // response options) reach the base classes as they are.
  class ExpressRequest extends IncomingMessage {}
  class ExpressResponse extends ServerResponse {}
  copyChain(app.request, IncomingMessage.prototype, ExpressRequest.prototype);
  copyChain(app.response, ServerResponse.prototype, ExpressResponse.prototype);
  app.request = ExpressRequest.prototype;
  app.response = ExpressResponse.prototype;
  const classes: ExpressShapedClasses = {
    IncomingMessage: ExpressRequest,
    ServerResponse: ExpressResponse as unknown as typeof ServerResponse,
  };
  shaped.set(app, classes);
  return classes;
}

/**
 * Nest's Express adapter, creating its HTTP server with the Express-shaped classes. HTTPS and
 * the options that make Nest wrap its server (`return503OnClosing`, `forceCloseConnections`),
 * none of which the gateway uses, keep Nest's own server.
 */
export class GatewayExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.return503OnClosing || options?.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance() as ExpressLike & Parameters<typeof createServer>[1];
    this.httpServer = createServer(expressShapedClasses(app), app);
  }
}
