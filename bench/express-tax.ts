/**
 * What Express and Nest cost a request by themselves (issue 28): `npm run bench:express-tax`.
 *
 * One small server per kind, each in its own process, takes the same POST (a short form body,
 * 64 keep-alive connections) at a fixed EXPRESS_TAX_RATE (default 3,000/s) for
 * EXPRESS_TAX_DURATION_S seconds (default 8) after a 3 s warm-up, and answers a small JSON body;
 * the figure is the server process's CPU per request (/proc/<pid>/stat), and its ratio to plain
 * `node:http` doing the same. Kinds:
 * - `node:http`: reads the body, answers with writeHead/end;
 * - `express`: the same through Express (body-parser's raw reader, `res.status().type().send()`),
 *   its requests given their prototypes the way Express does it, per request;
 * - `express, born shaped`: the same application on a server whose requests are created with
 *   Express's prototypes (src/http/express-shaped-requests.ts);
 * - `nest` and `nest, born shaped`: a Nest controller with a guard on Express, as the gateway's
 *   provider modules are, on Nest's own server and on the gateway's adapter.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  Injectable,
  Module,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type Request, type Response } from 'express';
import {
  expressShapedClasses,
  GatewayExpressAdapter,
} from '../src/http/express-shaped-requests.js';
import { cpuSeconds, fmt, table } from './load.js';

const KINDS = [
  'node:http',
  'express',
  'express, born shaped',
  'nest',
  'nest, born shaped',
] as const;
type Kind = (typeof KINDS)[number];
const ACK = '{"ok":true}';

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller('cb')
class AckController {
  @Post()
  @UseGuards(AllowGuard)
  receive(@Req() _req: Request, @Res() res: Response): void {
    res.status(200).type('application/json').send(ACK);
  }
}

@Module({ controllers: [AckController], providers: [AllowGuard] })
class AckModule {}

function expressApp() {
  const app = express();
  app.set('etag', false);
  app.use(express.raw({ type: '*/*' }));
  app.post('/cb', (_req, res) => {
    res.status(200).type('application/json').send(ACK);
  });
  return app;
}

/** Starts one kind of server on an ephemeral port; resolves to the port. */
async function serve(kind: Kind): Promise<number> {
  if (kind === 'node:http') {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        Buffer.concat(chunks);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(ACK);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  if (kind === 'express' || kind === 'express, born shaped') {
    const app = expressApp();
    const server =
      kind === 'express' ? createServer(app) : createServer(expressShapedClasses(app), app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  const options = { bodyParser: false, logger: false as const };
  const app =
    kind === 'nest'
      ? await NestFactory.create<NestExpressApplication>(AckModule, options)
      : await NestFactory.create<NestExpressApplication>(
          AckModule,
          new GatewayExpressAdapter(),
          options,
        );
  app.set('etag', false);
  app.use(express.raw({ type: '*/*' }));
  await app.listen(0, '127.0.0.1');
  return (app.getHttpServer().address() as AddressInfo).port;
}

async function measure(kind: Kind, rate: number, seconds: number): Promise<number> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
      child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
    });
    const run = (duration: number, overallRate?: number) =>
      autocannon({
        url: `http://127.0.0.1:${port}/cb`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'tXid=IONPAYTEST02202412061230001234&amt=150000&status=0',
        connections: 64,
        duration,
        overallRate,
      });
    await run(3);
    const before = cpuSeconds(child.pid!);
    const result = await run(seconds, rate);
    const used = cpuSeconds(child.pid!) - before;
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind}: failed requests`);
    return (used * 1000) / result.requests.total;
  } finally {
    child.kill();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'serve') {
    process.stdout.write(`${await serve(process.argv[3] as Kind)}\n`);
    return;
  }
  const rate = Number(process.env.EXPRESS_TAX_RATE ?? 3000);
  const seconds = Number(process.env.EXPRESS_TAX_DURATION_S ?? 8);
  const figures = new Map<Kind, number>();
  for (const kind of KINDS) figures.set(kind, await measure(kind, rate, seconds));
  const floor = figures.get('node:http')!;
  process.stdout.write(
    `\nWhat Express and Nest cost a request — ${new Date().toISOString()}, Node ${process.version}, POST with a form body at ${rate}/s, 64 connections, ${seconds} s\n\n`,
  );
  process.stdout.write(
    table(
      ['server', 'CPU ms per request', '÷ node:http'],
      KINDS.map((kind) => [kind, fmt(figures.get(kind), 3), fmt(figures.get(kind)! / floor, 2)]),
    ),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
