/**
 * Callback routes answered without Nest's per-request execution context (issue 28): which routes
 * qualify, and that a request gets exactly what Nest would have answered — same status, headers
 * and body for success, a falsy guard, a throwing guard, a throwing handler and `@HttpCode` — on
 * a small Nest application (no services), then on the real gateway over HTTP.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type CanActivate,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Module,
  Param,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
  UseInterceptors,
  type NestInterceptor,
  type CallHandler,
  type ExecutionContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { ErrorFilter } from '../src/common/error.filter.js';
import { directRoutes, directRouteStep, reachedFirst } from '../src/http/direct-routes.js';
import { GatewayExpressAdapter } from '../src/http/express-shaped-requests.js';
import { acceptedCallbacks, createTestBed, type TestBed } from './support/gateway.js';
import { nicepayNotification, postForm } from './support/nicepay.js';

/** What the handler saw: whether Express's router (a `Route` object) or the direct step routed it. */
const routedBy: string[] = [];

function record(req: Request): void {
  routedBy.push((req.route as object).constructor.name === 'Route' ? 'express' : 'direct');
}

@Injectable()
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    assert.equal(context.getType(), 'http');
    assert.equal(typeof context.getHandler(), 'function');
    const mode = req.headers['x-guard'];
    if (mode === 'deny') return false;
    if (mode === 'throw') throw new UnauthorizedException('guard refused: bad signature');
    if (mode === 'async-deny') return Promise.resolve(false);
    return Promise.resolve(true);
  }
}

@Injectable()
class PassThrough implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

@Controller('callbacks/demo')
class DemoController {
  @Post()
  @UseGuards(HeaderGuard)
  @HttpCode(202)
  receive(@Req() req: Request, @Res() res: Response): void {
    record(req);
    if (req.headers['x-handler'] === 'throw') throw new Error('handler failed');
    res
      .type('text/plain')
      .send(`accepted at ${res.statusCode} ${(req.route as { path: string }).path}`);
  }

  @Post('plain')
  @UseGuards(HeaderGuard)
  async plain(@Req() req: Request, @Res() res: Response): Promise<void> {
    record(req);
    await Promise.resolve();
    if (req.headers['x-handler'] === 'throw') throw new UnauthorizedException('late refusal');
    res.json({ status: res.statusCode });
  }

  @Get(':token')
  @UseGuards(HeaderGuard)
  withToken(@Req() req: Request, @Res() res: Response): void {
    record(req);
    res.send('token');
  }

  @Post('intercepted')
  @UseGuards(HeaderGuard)
  @UseInterceptors(PassThrough)
  intercepted(@Req() req: Request, @Res() res: Response): void {
    record(req);
    res.send('intercepted');
  }

  @Post('unguarded')
  unguarded(@Req() req: Request, @Res() res: Response): void {
    record(req);
    res.send('unguarded');
  }

  @Post('watched')
  @UseGuards(HeaderGuard)
  watched(@Req() req: Request, @Res() res: Response): void {
    record(req);
    res.send('watched');
  }

  // Registered before the static route below, and matching its path: Express runs this one.
  @Post('shadow/:x')
  @UseGuards(HeaderGuard)
  shadowing(@Req() req: Request, @Res() res: Response): void {
    record(req);
    res.send('the route with a parameter');
  }

  @Post('shadow/fixed')
  @UseGuards(HeaderGuard)
  shadowed(@Req() req: Request, @Res() res: Response): void {
    record(req);
    res.send('the static route');
  }

  @Post('param/:id')
  @UseGuards(HeaderGuard)
  param(@Param('id') id: string, @Res() res: Response): void {
    res.send(id);
  }
}

@Module({ controllers: [DemoController], providers: [HeaderGuard, PassThrough] })
class DemoModule {}

async function demoApp(
  direct: boolean,
  bodyParser = false,
): Promise<{ app: NestExpressApplication; url: string }> {
  const app = await NestFactory.create<NestExpressApplication>(
    DemoModule,
    new GatewayExpressAdapter(),
    { logger: false, bodyParser },
  );
  const filter = new ErrorFilter();
  if (direct) app.use(directRouteStep(directRoutes(app, 'callbacks'), filter));
  // A middleware mounted after the step over one direct route's path: Express must run it first.
  app.use('/callbacks/demo/watched', (_req: Request, res: Response, next: () => void) => {
    res.setHeader('x-middleware', 'ran');
    next();
  });
  app.useGlobalFilters(filter);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

interface Answer {
  status: number;
  contentType: string | null;
  middleware: string | null;
  body: string;
}

async function ask(
  url: string,
  method: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url, { method, headers });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    middleware: response.headers.get('x-middleware'),
    body: await response.text(),
  };
}

describe('direct callback routes on a small Nest application', () => {
  let nest: { app: NestExpressApplication; url: string };
  let direct: { app: NestExpressApplication; url: string };
  before(async () => {
    nest = await demoApp(false);
    direct = await demoApp(true);
  });
  after(async () => {
    await nest?.app.close();
    await direct?.app.close();
  });

  it('takes only routes with one guard, @Req and @Res, no pattern, no enhancer of their own', () => {
    const refused: string[] = [];
    const routes = directRoutes(direct.app, 'callbacks', (route, why) =>
      refused.push(`${route}: ${why}`),
    );
    assert.deepEqual(
      routes.map((route) => `${route.method} ${route.path} ${route.status}`).sort(),
      [
        'POST /callbacks/demo 202',
        'POST /callbacks/demo/plain 201',
        'POST /callbacks/demo/shadow/fixed 201',
        'POST /callbacks/demo/watched 201',
      ],
    );
    assert.deepEqual(refused.sort(), [
      'GET /callbacks/demo/:token: a parameter or pattern in the path',
      'POST /callbacks/demo/intercepted: its own interceptors',
      'POST /callbacks/demo/param/:id: a parameter or pattern in the path',
      'POST /callbacks/demo/shadow/:x: a parameter or pattern in the path',
      'POST /callbacks/demo/unguarded: not exactly one guard class',
    ]);
    assert.deepEqual(directRoutes(direct.app, 'admin'), [], 'nothing outside the prefix');
  });

  it('answers each case exactly as Nest does, and is the one that answers', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['POST', '/callbacks/demo', {}],
      ['POST', '/callbacks/demo/', {}],
      ['POST', '/CALLBACKS/Demo?x=1', {}],
      ['POST', '/callbacks/demo', { 'x-guard': 'deny' }],
      ['POST', '/callbacks/demo', { 'x-guard': 'async-deny' }],
      ['POST', '/callbacks/demo', { 'x-guard': 'throw' }],
      ['POST', '/callbacks/demo', { 'x-handler': 'throw' }],
      ['POST', '/callbacks/demo/plain', {}],
      ['POST', '/callbacks/demo/plain', { 'x-handler': 'throw' }],
    ];
    for (const [method, path, headers] of cases) {
      routedBy.length = 0;
      const viaNest = await ask(nest.url + path, method, headers);
      const nestRouted = [...routedBy];
      routedBy.length = 0;
      const viaDirect = await ask(direct.url + path, method, headers);
      assert.deepEqual(viaDirect, viaNest, `${method} ${path} ${JSON.stringify(headers)}`);
      // The handler ran (or did not) on both, routed by Express for Nest, by the step otherwise.
      assert.deepEqual(
        nestRouted,
        routedBy.map(() => 'express'),
        `${path}: Nest ran the handler`,
      );
      assert.deepEqual(
        routedBy,
        nestRouted.map(() => 'direct'),
        `${path}: the step ran it`,
      );
    }
    const denied = await ask(direct.url + '/callbacks/demo', 'POST', { 'x-guard': 'deny' });
    assert.equal(denied.status, 403);
    assert.match(denied.body, /"message":"Forbidden resource"/);
    const handled = await ask(direct.url + '/callbacks/demo', 'POST');
    assert.equal(handled.status, 202);
    assert.equal(handled.body, 'accepted at 202 /callbacks/demo');
  });

  it('leaves every other request to Express and Nest', async () => {
    for (const [method, path] of [
      ['GET', '/callbacks/demo'],
      ['POST', '/callbacks/demo//'],
      ['POST', '/callbacks/dem%6F'],
      ['POST', '/callbacks/demo/intercepted'],
      ['GET', '/callbacks/demo/abc'],
      ['POST', '/callbacks/demo/unguarded'],
      // A middleware over its path, and an earlier route matching it: Express decides.
      ['POST', '/callbacks/demo/watched'],
      ['POST', '/callbacks/demo/shadow/fixed'],
    ]) {
      routedBy.length = 0;
      const viaNest = await ask(nest.url + path, method);
      routedBy.length = 0;
      const viaDirect = await ask(direct.url + path, method);
      assert.deepEqual(viaDirect, viaNest, `${method} ${path}`);
      assert.ok(
        routedBy.every((by) => by === 'express'),
        `${method} ${path} went to Express`,
      );
    }
  });
});

describe('direct callback routes behind a middleware over every path', () => {
  it("with Nest's body parsers (registered when it starts, after the step) Express answers all", async () => {
    const { app, url } = await demoApp(true, true);
    try {
      routedBy.length = 0;
      const answer = await ask(`${url}/callbacks/demo`, 'POST');
      assert.equal(answer.status, 202);
      assert.deepEqual(routedBy, ['express']);
    } finally {
      await app.close();
    }
  });
});

describe('direct callback routes on the gateway', () => {
  let bed: TestBed;
  before(async () => {
    bed = await createTestBed('sqlite');
  });
  after(async () => {
    await bed?.teardown();
  });

  it('answers the static callback routes directly; routes with a URL token or SNAP stay with Nest', () => {
    const refused: string[] = [];
    const routes = directRoutes(bed.gateway.app, 'callbacks', (route) => refused.push(route));
    assert.deepEqual(routes.map((route) => `${route.method} ${route.path}`).sort(), [
      'GET /callbacks/ppob',
      'GET /callbacks/sidopulsa',
      'POST /callbacks/mcpayment',
      'POST /callbacks/nicepay',
      'POST /callbacks/s88pay',
    ]);
    assert.ok(refused.includes('GET /callbacks/ppob/:token'));
    // And Express would reach each of them right after the step: nothing runs in between.
    const stack = (
      bed.gateway.app.getHttpAdapter().getInstance() as unknown as {
        router: { stack: Parameters<typeof reachedFirst>[0] };
      }
    ).router.stack;
    const step = stack.find(
      (layer) => (layer.handle as { name?: string }).name === 'directCallbackRoutes',
    );
    assert.ok(step, 'the step is mounted');
    for (const route of routes) assert.ok(reachedFirst(stack, step.handle, route), route.path);
    assert.ok(refused.some((route) => route.startsWith('POST /callbacks/snap/:account/')));
  });

  it('stores and acknowledges a signed NICEPAY callback (the gateway refuses other spellings first)', async () => {
    const paths = ['/callbacks/nicepay', '/callbacks/nicepay?a=1'];
    for (const path of paths) {
      const response = await postForm(`${bed.gateway.url}${path}`, nicepayNotification());
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(await response.text(), '{"resultCd":"200","resultMsg":"success"}', path);
    }
    const stored = await acceptedCallbacks(bed.db);
    assert.equal(stored.length, paths.length);
    assert.ok(
      stored.every((row) => row.path === '/callbacks/nicepay'),
      'the route template',
    );
  });

  it('refuses a forged one through the exception filter, nothing stored', async () => {
    const forged = nicepayNotification({ merchantToken: 'ab'.repeat(32) });
    const response = await postForm(`${bed.gateway.url}/callbacks/nicepay`, forged, {
      'x-request-id': 'direct-forged-1',
    });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { statusCode: number; requestId: string };
    assert.equal(body.statusCode, 401);
    assert.equal(body.requestId, 'direct-forged-1');
    const rows = await bed.db.query(`SELECT * FROM callbacks WHERE outcome = 'accepted'`);
    assert.equal(rows.length, 2);
    const other = await postForm(`${bed.gateway.url}/callbacks/NICEPAY/`, nicepayNotification());
    assert.equal(other.status, 404, 'an inexact path is refused before any route');
  });
});
