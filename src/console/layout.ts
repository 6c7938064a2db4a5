import type { Request } from 'express';
import { type Html, html } from './html.js';
import type { ConsoleRequest } from './console.guard.js';

export const NAV = [
  ['overview', '/console', 'Overview'],
  ['search', '/console/search', 'Search'],
  ['attention', '/console/attention', 'Attention'],
  ['outbox', '/console/outbox', 'Outbox'],
  ['topups', '/console/topups', 'Top-ups'],
  ['audit', '/console/audit', 'Audit log'],
] as const;

/** The form token of this request's session, as a hidden field (empty behind the proxy). */
export function csrfField(req: ConsoleRequest): Html {
  return html`<input type="hidden" name="_csrf" value="${req.consoleSession?.csrfToken ?? ''}" />`;
}

/** A whole page: header with navigation and the operator, then the content. */
export function page(
  req: Request & ConsoleRequest,
  title: string,
  current: string,
  body: Html,
): Html {
  const operator = req.operator;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} — gateway console</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
      </head>
      <body>
        <header>
          <strong>Payment gateway console</strong>
          <nav>
            ${NAV.map(
              ([id, href, label]) =>
                html`<a href="${href}" ${id === current ? html` aria-current="page"` : ''}
                  >${label}</a
                >`,
            )}
          </nav>
          ${
            operator
              ? html`<span class="who"
                    >${operator.name} ·
                    ${operator.role}${operator.via === 'proxy' ? ' (SSO)' : ''}</span
                  >
                  ${
                    operator.via === 'session'
                      ? html`<form method="post" action="/console/logout">
                          ${csrfField(req)}<button class="secondary" type="submit">Sign out</button>
                        </form>`
                      : ''
                  }`
              : ''
          }
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

export const time = (value: string | null | undefined): Html =>
  value
    ? html`<time datetime="${value}">${value.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`
    : html`<span class="muted">—</span>`;

export function badge(text: string | null | undefined): Html {
  if (!text) return html`<span class="muted">—</span>`;
  const kind = /rejected|invalid|conflicted|contradicted|failed|quarantined|error/.test(text)
    ? 'bad'
    : /verifying|unconfirmed|pending|held|unpublished|overdue/.test(text)
      ? 'warn'
      : /accepted|confirmed|succeeded|published|ok/.test(text)
        ? 'ok'
        : '';
  return html`<span class="badge ${kind}">${text}</span>`;
}
