import { Body, Controller, Get, Logger, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { keyFingerprint } from '../operators/admin-key.guard.js';
import {
  clearedSessionCookie,
  csrfMatches,
  fromOwnOrigin,
  readSession,
  sessionCookie,
} from '../operators/console-session.js';
import { OperatorDirectory } from '../operators/operator-directory.js';
import { CONSOLE_CSS } from './console-css.js';
import { html } from './html.js';
import { page } from './layout.js';

/** Only a console path of this gateway: never another site after signing in. */
const safeNext = (next: unknown) =>
  typeof next === 'string' &&
  /^\/console(\/|\?|$)/.test(next) &&
  !next.includes('//') &&
  next.length < 2048
    ? next
    : '/console';

/** Sign-in, sign-out and the stylesheet: the only console paths without an operator. */
@ApiExcludeController()
@Controller('console')
export class ConsoleLoginController {
  private readonly logger = new Logger('Console');

  constructor(private readonly operators: OperatorDirectory) {}

  @Get('assets/console.css')
  stylesheet(@Res() res: Response) {
    res.type('text/css').setHeader('Cache-Control', 'public, max-age=3600');
    res.send(CONSOLE_CSS);
  }

  @Get('login')
  form(@Req() req: Request, @Res() res: Response, @Query('next') next?: unknown, failed = false) {
    const body = html`${failed ? html`<p class="notice error">That key belongs to no operator.</p>` : ''}
      <form class="act" method="post" action="/console/login">
        <input type="hidden" name="next" value="${safeNext(next)}" />
        <label
          >Your operator key<input
            type="password"
            name="key"
            autocomplete="current-password"
            required
            maxlength="512"
        /></label>
        <p><button type="submit">Sign in</button></p>
      </form>
      <p class="muted">
        The key is exchanged for a session cookie the page cannot read (HttpOnly, SameSite=Strict),
        valid for 8 hours; it is never shown or stored in the browser.
      </p>`;
    res
      .status(failed ? 401 : 200)
      .type('html')
      .setHeader('Cache-Control', 'no-store');
    res.send(page(req, 'Sign in', '', body).text);
  }

  @Post('login')
  login(@Req() req: Request, @Res() res: Response, @Body() body: Record<string, unknown>) {
    const key = typeof body?.key === 'string' && body.key.length <= 512 ? body.key : '';
    const operator = key && fromOwnOrigin(req) ? this.operators.byKey(key) : null;
    const cookie = operator && sessionCookie(this.operators, operator.name, req.secure);
    if (!operator || !cookie) {
      this.logger.warn(`Console sign-in refused${key ? ` (key ${keyFingerprint(key)})` : ''}`);
      return this.form(req, res, body?.next, true);
    }
    this.logger.log(`Console sign-in: ${operator.name} (${operator.role})`);
    res.setHeader('Set-Cookie', cookie);
    res.redirect(303, safeNext(body.next));
  }

  @Post('logout')
  logout(@Req() req: Request, @Res() res: Response, @Body() body: Record<string, unknown>) {
    const session = readSession(req, this.operators);
    if (session && fromOwnOrigin(req) && csrfMatches(session, body?._csrf))
      res.setHeader('Set-Cookie', clearedSessionCookie);
    res.redirect(303, '/console/login');
  }
}
