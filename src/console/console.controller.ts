import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { Request, Response } from 'express';
import { AdminAction, AdminAuditInterceptor } from '../operators/admin-audit.js';
import { CallbackSearchQuery, type TransactionDetail } from '../admin/admin.dto.js';
import { AdminService } from '../admin/admin.service.js';
import { TransactionHistoryService } from '../admin/transaction-history.service.js';
import { AuditQuery, BulkRepublishBody, OutboxQuery } from '../admin/operations.dto.js';
import { OperationsService } from '../admin/operations.service.js';
import { GatewayMetrics } from '../observability/gateway-metrics.js';
import { TopupOrdersService } from '../topups/topup-orders.service.js';
import { ExpectedPaymentsService } from '../verification/expected-payments.service.js';
import { PublishUnverifiedBody } from '../verification/verification.dto.js';
import { VerificationService } from '../verification/verification.service.js';
import { VerificationStore } from '../verification/verification.store.js';
import { claimOf } from '../admin/admin-rows.js';
import { ConsoleErrorFilter } from './console-errors.js';
import { type ConsoleRequest, ConsoleGuard } from './console.guard.js';
import { type Html, html, queryString, segment } from './html.js';
import { badge, csrfField, page, time } from './layout.js';
import { redactBody, redactFields, redactHeaders } from './redact.js';

type Req_ = Request & ConsoleRequest;
type Query_ = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Query or form fields through an admin API DTO's validation: 400 naming each problem. */
function valid<T extends object>(type: new () => T, input: Query_, omit: string[] = []): T {
  const plain = Object.fromEntries(
    Object.entries(input).filter(([k, v]) => !omit.includes(k) && v !== ''),
  );
  const value = plainToInstance(type, plain);
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0)
    throw new BadRequestException(
      errors.flatMap((e) =>
        Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }),
      ),
    );
  return value;
}

const uuid = (value: string, what: string) => {
  if (!UUID.test(value)) throw new BadRequestException(`${what} must be a UUID`);
  return value.toLowerCase();
};

const send = (res: Response, body: Html) =>
  res
    .status(res.statusCode || 200)
    .type('html')
    .send(body.text);

/** Metric figures exactly as /metrics has them, by name and labels. */
async function metricValues(
  metrics: GatewayMetrics,
): Promise<Map<string, Array<{ labels: Record<string, string | number>; value: number }>>> {
  const all = await metrics.registry.getMetricsAsJSON();
  return new Map(
    all.map((metric) => [
      metric.name,
      (
        metric.values as Array<{
          labels: Record<string, string | number>;
          value: number;
          metricName?: string;
        }>
      )
        .filter((v) => v.metricName === undefined || v.metricName === metric.name)
        .map((v) => ({ labels: v.labels, value: v.value })),
    ]),
  );
}

/**
 * The operator console (docs/console.md): server-rendered pages on the management port, built on
 * the admin API's services; every page and action is written to admin_audit like the API's.
 */
@ApiExcludeController()
@Controller('console')
@UseGuards(ConsoleGuard)
@UseFilters(ConsoleErrorFilter)
@UseInterceptors(AdminAuditInterceptor)
export class ConsoleController {
  constructor(
    private readonly admin: AdminService,
    private readonly history: TransactionHistoryService,
    private readonly operations: OperationsService,
    private readonly verification: VerificationService,
    @Inject(VerificationStore) private readonly hints: VerificationStore,
    private readonly expected: ExpectedPaymentsService,
    private readonly metrics: GatewayMetrics,
    private readonly modules: ModuleRef,
  ) {}

  @Get()
  @AdminAction('console.overview')
  async overview(@Req() req: Req_, @Res() res: Response) {
    const values = await metricValues(this.metrics);
    const one = (name: string, labels: Record<string, string> = {}) =>
      (values.get(name) ?? [])
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((sum, v) => sum + v.value, 0);
    const callbacks = values.get('gateway_callbacks_total') ?? [];
    const providers = [...new Set(callbacks.map((v) => String(v.labels.provider)))].sort();
    const outcomes = [...new Set(callbacks.map((v) => String(v.labels.outcome)))].sort();
    const figure = (name: string, label: string, value: number) =>
      html`<div class="figure" data-metric="${name}">
        <b>${value}</b>${label}<br /><small><code>${name}</code></small>
      </div>`;
    const broker = values.get('gateway_broker_connected') ?? [];
    const body = html` <p class="muted">
        Figures are the gateway's metrics of the same names on this replica (counters since it
        started), as <code>/metrics</code> reports them now.
      </p>
      <div class="figures">
        ${figure('gateway_outbox_backlog', 'events not yet confirmed by the broker', one('gateway_outbox_backlog'))}
        ${figure('gateway_outbox_oldest_unpublished_age_seconds', 'seconds: the oldest of those', one('gateway_outbox_oldest_unpublished_age_seconds'))}
        ${figure('gateway_verification_backlog', 'callbacks waiting for the provider', one('gateway_verification_backlog'))}
        ${figure('gateway_verifications_total', 'conflicted verifications', one('gateway_verifications_total', { result: 'conflicted' }))}
        ${figure('gateway_expected_payments_overdue', 'expected payments overdue', one('gateway_expected_payments_overdue'))}
        ${figure('gateway_rejected_attempts_total', 'refused attempts recorded', one('gateway_rejected_attempts_total', { result: 'recorded' }))}
      </div>
      <h2>Broker</h2>
      <table>
        <tr>
          <th>component</th>
          <th><code>gateway_broker_connected</code></th>
        </tr>
        ${broker.map(
          (v) =>
            html`<tr>
              <td>${String(v.labels.component)}</td>
              <td>${badge(v.value === 1 ? 'connected' : 'disconnected')}</td>
            </tr>`,
        )}
      </table>
      <h2>Callbacks by provider and outcome</h2>
      <table>
        <tr>
          <th>provider</th>
          ${outcomes.map((o) => html`<th class="num">${o}</th>`)}
        </tr>
        ${providers.map(
          (p) =>
            html`<tr>
              <td>${p}</td>
              ${outcomes.map((o) => html`<td class="num" data-metric="gateway_callbacks_total" data-provider="${p}" data-outcome="${o}">${one('gateway_callbacks_total', { provider: p, outcome: o })}</td>`)}
            </tr>`,
        )}
      </table>
      ${providers.length === 0 ? html`<p class="muted">No callback yet since this replica started.</p>` : ''}`;
    send(res, page(req, 'Overview', 'overview', body));
  }

  @Get('search')
  @AdminAction('callbacks.list')
  async search(@Req() req: Req_, @Res() res: Response, @Query() query: Query_) {
    const filters = valid(CallbackSearchQuery, query);
    const asked = Object.keys(query).some((k) => query[k] !== '');
    const result = asked ? await this.admin.search(filters) : null;
    const field = (name: keyof CallbackSearchQuery, label: string) =>
      html`<label>${label}<input name="${name}" value="${String(filters[name] ?? '')}" /></label>`;
    const body = html` <form class="filters" method="get" action="/console/search">
        ${field('reference', 'Order reference')}${field('providerTransactionId', 'Provider transaction id')}
        ${field('provider', 'Provider')}${field('account', 'Account')}${field('status', 'Status')}${field('outcome', 'Outcome')}
        ${field('from', 'From (RFC 3339)')}${field('to', 'To')}
        <button type="submit">Search</button>
      </form>
      ${
        result
          ? html`<table>
                <tr>
                  <th>received</th>
                  <th>provider</th>
                  <th>account</th>
                  <th>outcome</th>
                  <th>status</th>
                  <th>reference</th>
                  <th>transaction</th>
                  <th>published</th>
                </tr>
                ${result.items.map(
                  (item) =>
                    html`<tr>
                      <td><a href="/console/callbacks/${item.id}">${time(item.receivedAt)}</a></td>
                      <td>${item.provider}</td>
                      <td>${item.account ?? '—'}</td>
                      <td>${badge(item.outcome)}</td>
                      <td>${item.status ?? '—'}</td>
                      <td>${item.reference ?? '—'}</td>
                      <td>
                        ${
                          item.account && item.transactionKey
                            ? html`<a
                                href="/console/transactions/${segment(item.provider)}/${segment(item.account)}/${segment(item.transactionKey)}"
                                >${item.transactionKey}</a
                              >`
                            : '—'
                        }
                      </td>
                      <td>
                        ${item.published === null ? '—' : badge(item.published ? 'published' : 'unpublished')}
                      </td>
                    </tr>`,
                )}
              </table>
              ${result.items.length === 0 ? html`<p class="muted">Nothing matches.</p>` : ''}
              ${result.nextCursor ? html`<p><a href="/console/search${queryString({ ...(filters as Record<string, string>), cursor: result.nextCursor })}">Older →</a></p>` : ''}`
          : html`<p class="muted">
              Refused attempts are found by reference too, where the provider sends it in plain
              text.
            </p>`
      }`;
    send(res, page(req, 'Search callbacks', 'search', body));
  }

  @Get('transactions/:provider/:account/:transaction')
  @AdminAction('transactions.show')
  async transaction(
    @Req() req: Req_,
    @Res() res: Response,
    @Param('provider') provider: string,
    @Param('account') account: string,
    @Param('transaction') transaction: string,
  ) {
    if (!/^[a-z0-9]{1,32}$/.test(provider) || account.length > 128 || transaction.length > 191)
      throw new BadRequestException('Not a transaction address');
    const detail = await this.history.transaction(provider, account, transaction);
    send(res, page(req, `Transaction ${transaction}`, 'search', this.timeline(req, detail)));
  }

  private timeline(req: Req_, detail: TransactionDetail): Html {
    type Entry = { at: string; kind: string; body: Html };
    const entries: Entry[] = [];
    for (const c of detail.callbacks) {
      entries.push({
        at: c.receivedAt,
        kind: c.kind === 'inquiry' ? 'inquiry' : 'callback',
        body: html`${c.kind === 'inquiry' ? 'Provider answered (status inquiry)' : 'Callback'}
          ${badge(c.outcome)} status <b>${c.status ?? '—'}</b> — ${c.verification} ·
          <a href="/console/callbacks/${c.id}">inspect</a>`,
      });
      for (const e of c.events)
        entries.push({
          at: e.createdAt,
          kind: 'event',
          body: html`Event <code>${e.routingKey}</code> version ${e.transactionVersion ?? '—'}:
            ${
              e.publishedAt
                ? html`${badge('published')} ${time(e.publishedAt)}`
                : badge('unpublished')
            }`,
        });
    }
    for (const v of detail.verifications)
      entries.push({
        at: v.settledAt ?? v.createdAt,
        kind: 'verification',
        body: html`Verification of callback
          <a href="/console/callbacks/${v.callbackId}">${v.callbackId.slice(0, 8)}</a>:
          ${badge(v.state)} ${v.detail ?? ''}
          ${v.lastError ? html`<span class="muted">(${v.lastError})</span>` : ''}`,
      });
    for (const a of detail.operatorActions)
      entries.push({
        at: a.at,
        kind: 'action',
        body: html`Operator <b>${a.operator ?? '?'}</b>:
          <code>${a.action}</code> ${a.reason ? html`— “${a.reason}”` : ''} (${a.status ?? '…'})`,
      });
    entries.sort((a, b) => a.at.localeCompare(b.at));
    const held = detail.verifications.filter(
      (v) => v.state === 'verifying' || v.state === 'unconfirmed' || v.state === 'conflicted',
    );
    return html` <table>
        <tr>
          <th>provider</th>
          <td>${detail.provider}</td>
          <th>account</th>
          <td>${detail.account}</td>
        </tr>
        <tr>
          <th>state</th>
          <td>${badge(detail.status ?? 'none yet')}</td>
          <th>version</th>
          <td>${detail.version}</td>
        </tr>
        <tr>
          <th>first seen</th>
          <td>${time(detail.createdAt)}</td>
          <th>last change</th>
          <td>${time(detail.updatedAt)}</td>
        </tr>
      </table>
      ${held.map((v) => this.heldBox(req, v.callbackId, v.state, v.claim))}
      <h2>Timeline</h2>
      <table>
        <tr>
          <th>when</th>
          <th>what</th>
          <th></th>
        </tr>
        ${entries.map(
          (e) =>
            html`<tr data-kind="${e.kind}">
              <td>${time(e.at)}</td>
              <td>${e.kind}</td>
              <td>${e.body}</td>
            </tr>`,
        )}
      </table>`;
  }

  private heldBox(
    req: Req_,
    callbackId: string,
    state: string,
    claim: ReturnType<typeof claimOf>,
  ): Html {
    const canPublish = state === 'verifying' || state === 'unconfirmed';
    const acting = req.operator?.role === 'operator';
    const describe = `${claim.status ?? '?'} ${claim.currency ?? ''} ${claim.amount ?? '?'} for ${claim.merchantReference ?? '?'}`;
    return html`<section class="held" id="held-${callbackId}">
      <h2>Held event ${badge(state)}</h2>
      <dl>
        <dt>amount</dt>
        <dd data-field="amount">${claim.amount ?? '—'}</dd>
        <dt>currency</dt>
        <dd data-field="currency">${claim.currency ?? '—'}</dd>
        <dt>status</dt>
        <dd data-field="status">
          ${claim.status ?? '—'}
          <span class="muted">(provider: ${claim.providerStatus ?? '—'})</span>
        </dd>
        <dt>reference</dt>
        <dd>${claim.merchantReference ?? '—'}</dd>
        <dt>provider transaction</dt>
        <dd>${claim.providerTransactionId ?? '—'}</dd>
      </dl>
      ${
        acting
          ? html`<form
                class="act"
                method="post"
                action="/console/verifications/${callbackId}/verify"
              >
                ${csrfField(req)}<button type="submit" class="secondary">
                  Ask the provider now
                </button>
              </form>
              ${
                canPublish
                  ? html`<form
                      class="act"
                      method="post"
                      action="/console/verifications/${callbackId}/publish"
                    >
                      ${csrfField(req)}
                      <label
                        >Reason (kept in the audit log and the event)<textarea
                          name="reason"
                          required
                          minlength="3"
                          maxlength="1000"
                        ></textarea>
                      </label>
                      <label class="confirm"
                        ><input type="checkbox" name="confirm" value="yes" required /> I checked
                        with the provider: publish <b>${describe}</b> without its
                        confirmation</label
                      >
                      <button type="submit">Publish without verification</button>
                    </form>`
                  : html`<p class="muted">
                      Refuted by the provider: it cannot be published without verification.
                    </p>`
              }`
          : html`<p class="muted">Your role (${req.operator?.role ?? '?'}) can read only.</p>`
      }
    </section>`;
  }

  @Post('verifications/:id/publish')
  @AdminAction('verifications.publish-unverified')
  async publish(
    @Req() req: Req_,
    @Res() res: Response,
    @Param('id') id: string,
    @Body() body: Query_,
  ) {
    const callbackId = uuid(id, 'id');
    if (body.confirm !== 'yes') throw new BadRequestException('Tick the confirmation to publish');
    const { reason } = valid(PublishUnverifiedBody, { reason: body.reason });
    const hint = await this.hints.get(callbackId);
    if (!hint) throw new NotFoundException(`No verification for callback ${id}`);
    const published = await this.verification.publishUnverified(
      callbackId,
      reason,
      req.operator!.name,
    );
    if (!published)
      throw new ConflictException(
        `The callback ${id} is no longer waiting: only a callback still verifying or unconfirmed can be published`,
      );
    res.redirect(
      303,
      `/console/transactions/${segment(hint.provider)}/${segment(hint.account)}/${segment(hint.transactionKey)}?published=${published.eventId}`,
    );
  }

  @Post('verifications/:id/verify')
  @AdminAction('verifications.verify')
  async verify(@Req() req: Req_, @Res() res: Response, @Param('id') id: string) {
    const outcome = await this.verification.verifyNow(uuid(id, 'id'));
    if (outcome === null) throw new NotFoundException(`No verification for callback ${id}`);
    if (outcome === 'busy')
      throw new ConflictException('Another replica is asking right now; try again in a minute');
    const body = html`<table>
        <tr>
          <th>asked</th>
          <td><pre>${JSON.stringify(redactFields(outcome.asked), null, 2)}</pre></td>
        </tr>
        <tr>
          <th>the provider answered</th>
          <td><pre>${JSON.stringify(redactFields(outcome.answer), null, 2)}</pre></td>
        </tr>
        <tr>
          <th>decided</th>
          <td>${badge(outcome.state)} ${outcome.decision}</td>
        </tr>
        <tr>
          <th>detail</th>
          <td>${outcome.detail ?? '—'}</td>
        </tr>
        <tr>
          <th>event</th>
          <td>${outcome.eventId ?? '—'}</td>
        </tr>
      </table>
      <p><a href="/console/callbacks/${id}">The callback</a></p>`;
    send(res, page(req, 'Asked the provider', 'search', body));
  }

  @Get('callbacks/:id')
  @AdminAction('callbacks.show')
  async callback(@Req() req: Req_, @Res() res: Response, @Param('id') id: string) {
    const c = await this.admin.show(uuid(id, 'id'));
    const body = html` <table>
        <tr>
          <th>provider</th>
          <td>${c.provider}</td>
          <th>account</th>
          <td>${c.account ?? '—'}</td>
        </tr>
        <tr>
          <th>outcome</th>
          <td>${badge(c.outcome)}</td>
          <th>status</th>
          <td>${c.status ?? '—'}</td>
        </tr>
        <tr>
          <th>reference</th>
          <td>${c.reference ?? '—'}</td>
          <th>transaction</th>
          <td>
            ${
              c.account && c.transactionKey
                ? html`<a
                    href="/console/transactions/${segment(c.provider)}/${segment(c.account)}/${segment(c.transactionKey)}"
                    >${c.transactionKey}</a
                  >`
                : '—'
            }
          </td>
        </tr>
        <tr>
          <th>authentication</th>
          <td colspan="3">${c.verification}</td>
        </tr>
      </table>
      <h2>Request as stored</h2>
      <p>
        <code>${c.request.method} ${c.request.path}</code> from
        <code>${c.request.sourceIp}</code> at ${time(c.request.receivedAt)}
      </p>
      <pre>
${Object.entries(redactHeaders(c.request.headers))
          .map(([k, v]) => `${k}: ${v}\n`)
          .join('')}</pre>
      <pre data-part="body">${redactBody(c.request.body, c.request.bodyEncoding)}</pre>
      <p class="muted">Secrets and tokens are redacted; personal data is masked.</p>
      <h2>Events</h2>
      ${c.events.map(
        (e) =>
          html`<h3>
              <code>${e.routingKey}</code>
              ${e.publishedAt ? badge('published') : badge('unpublished')}
            </h3>
            <p>
              created ${time(e.createdAt)} · published ${time(e.publishedAt)} · attempts
              ${e.attempts} ${e.lastError ? html`· last error ${e.lastError}` : ''}
            </p>
            <pre>${JSON.stringify(redactFields(e.payload), null, 2)}</pre>`,
      )}${c.events.length === 0 ? html`<p class="muted">No event (a refused attempt, a hint or a duplicate).</p>` : ''}`;
    send(res, page(req, `Callback ${c.id}`, 'search', body));
  }

  @Get('attention')
  @AdminAction('console.attention')
  async attention(@Req() req: Req_, @Res() res: Response) {
    const quarantined = await this.admin.search({
      outcome: 'quarantined',
      limit: 200,
    } as CallbackSearchQuery);
    const conflicted = await this.hints.list('conflicted', 200);
    const unconfirmed = await this.hints.list('unconfirmed', 200);
    const stuck = await this.operations.outbox({ olderThanSeconds: 60, limit: 200 } as OutboxQuery);
    const overdue = await this.expected.list('overdue', 200);
    const orders = this.modules.get(TopupOrdersService, { strict: false }) as
      TopupOrdersService | undefined;
    const failedOrders = orders ? await orders.failed(200) : [];
    const group = <T>(rows: T[], key: (row: T) => string, at: (row: T) => string) => {
      const groups = new Map<string, { count: number; first: string; last: string }>();
      for (const row of rows) {
        const g = groups.get(key(row)) ?? { count: 0, first: at(row), last: at(row) };
        g.count += 1;
        if (at(row) < g.first) g.first = at(row);
        if (at(row) > g.last) g.last = at(row);
        groups.set(key(row), g);
      }
      return html`<table>
          <tr>
            <th>group</th>
            <th class="num">count</th>
            <th>first seen</th>
            <th>last seen</th>
          </tr>
          ${[...groups].map(
            ([k, g]) =>
              html`<tr>
                <td>${k}</td>
                <td class="num">${g.count}</td>
                <td>${time(g.first)}</td>
                <td>${time(g.last)}</td>
              </tr>`,
          )}
        </table>
        ${groups.size === 0 ? html`<p class="muted">None.</p>` : ''}`;
    };
    const iso = (v: unknown) => new Date(v as string).toISOString();
    const hintLinks = (rows: Array<Record<string, unknown>>) =>
      html`<ul>
        ${rows.slice(0, 20).map(
          (r) =>
            html`<li>
              <a
                href="/console/transactions/${segment(String(r.provider))}/${segment(String(r.account))}/${segment(String(r.transaction_key))}"
                >${String(r.transaction_key)}</a
              >
              ${(() => {
                const c = claimOf(String(r.event));
                return `${c.currency ?? ''} ${c.amount ?? ''} ${c.status ?? ''}`;
              })()}
              — ${String(r.detail ?? '')}
            </li>`,
        )}
      </ul>`;
    const body = html` <h2>Quarantined callbacks</h2>
      ${group(
        quarantined.items,
        (i) => `${i.provider}`,
        (i) => i.receivedAt,
      )}
      <ul>
        ${quarantined.items.slice(0, 20).map((i) => html`<li><a href="/console/callbacks/${i.id}">${i.provider} ${i.receivedAt}</a></li>`)}
      </ul>
      <h2>Conflicted verifications</h2>
      ${group(
        conflicted,
        (r) => `${String(r.provider)}`,
        (r) => iso(r.created_at),
      )}${hintLinks(conflicted)}
      <h2>Held for an operator (unconfirmed)</h2>
      ${group(
        unconfirmed,
        (r) => `${String(r.provider)}`,
        (r) => iso(r.created_at),
      )}${hintLinks(unconfirmed)}
      <h2>Events stuck unpublished (over a minute)</h2>
      ${group(
        stuck.items,
        (r) => r.routingKey,
        (r) => r.createdAt,
      )}
      <p><a href="/console/outbox?olderThanSeconds=60">Outbox →</a></p>
      <h2>Expected payments overdue</h2>
      ${group(
        overdue,
        (r) => r.provider,
        (r) => r.expiresAt,
      )}
      <ul>
        ${overdue.slice(0, 20).map((r) => html`<li><a href="/console/transactions/${segment(r.provider)}/${segment(r.account)}/${segment(r.transactionKey)}">${r.merchantReference ?? r.transactionKey}</a> ${r.currency ?? ''} ${r.amount ?? ''} — ${r.state}, ${r.lastResult ?? ''}</li>`)}
      </ul>
      <h2>Top-up orders failed</h2>
      ${
        orders
          ? html`${group(
                failedOrders,
                (o) => `${o.provider} ${o.placement}`,
                (o) => o.updatedAt,
              )}
              <ul>
                ${failedOrders.slice(0, 20).map(
                  (o) =>
                    html`<li>
                      <a
                        href="/console/topups?provider=${encodeURIComponent(o.provider)}&amp;reference=${encodeURIComponent(o.reference)}&amp;account=${encodeURIComponent(o.account)}"
                        >${o.provider} ${o.reference}</a
                      >
                      — ${o.placement}: ${o.failureReason ?? o.providerMessage ?? ''}
                    </li>`,
                )}
              </ul>`
          : html`<p class="muted">Top-up orders are not configured.</p>`
      }`;
    send(res, page(req, 'Needs attention', 'attention', body));
  }

  @Get('outbox')
  @AdminAction('outbox.list')
  async outbox(@Req() req: Req_, @Res() res: Response, @Query() query: Query_) {
    const filter = valid(OutboxQuery, query);
    const result = await this.operations.outbox(filter);
    const acting = req.operator?.role === 'operator';
    const filterFields = html`<input
        type="hidden"
        name="routingKey"
        value="${filter.routingKey ?? ''}"
      /><input type="hidden" name="published" value="${filter.published ?? ''}" /><input
        type="hidden"
        name="olderThanSeconds"
        value="${filter.olderThanSeconds ?? ''}"
      />`;
    const body = html` <form class="filters" method="get" action="/console/outbox">
        <label>Routing key<input name="routingKey" value="${filter.routingKey ?? ''}" /></label>
        <label
          >Published<select name="published">
            <option value="false">no (waiting)</option>
            <option value="true" ${filter.published === 'true' ? html` selected` : ''}>yes</option>
          </select></label
        >
        <label
          >Older than (s)<input name="olderThanSeconds" value="${filter.olderThanSeconds ?? ''}"
        /></label>
        <button type="submit">Show</button>
      </form>
      <p><b data-field="total">${result.total}</b> event(s) match this filter.</p>
      <table>
        <tr>
          <th>created</th>
          <th class="num">age (s)</th>
          <th>routing key</th>
          <th class="num">attempts</th>
          <th>last error</th>
          <th></th>
        </tr>
        ${result.items.map(
          (r) =>
            html`<tr>
              <td><a href="/console/callbacks/${r.callbackId}">${time(r.createdAt)}</a></td>
              <td class="num">${r.ageSeconds}</td>
              <td><code>${r.routingKey}</code></td>
              <td class="num">${r.attempts}</td>
              <td>${r.lastError ?? ''}</td>
              <td>
                ${acting ? html`<form method="post" action="/console/events/${r.eventId}/republish">${csrfField(req)}<button class="secondary" type="submit">Republish</button></form>` : ''}
              </td>
            </tr>`,
        )}
      </table>
      ${
        acting && result.total > 0
          ? html`<h2>Republish all ${result.total} matching events</h2>
              <form class="act" method="post" action="/console/outbox/republish">
                ${csrfField(req)}${filterFields}
                <input type="hidden" name="expectedCount" value="${result.total}" />
                <label
                  >Reason<textarea name="reason" required minlength="3" maxlength="1000"></textarea>
                </label>
                <label class="confirm"
                  ><input type="checkbox" name="confirm" value="yes" required /> Publish these
                  <b>${result.total}</b> events again, each with its own id</label
                >
                <button type="submit">Republish ${result.total}</button>
              </form>`
          : ''
      }`;
    send(res, page(req, 'Outbox', 'outbox', body));
  }

  @Post('events/:eventId/republish')
  @AdminAction('events.republish')
  async republishOne(@Res() res: Response, @Param('eventId') eventId: string) {
    await this.admin.republish(uuid(eventId, 'eventId'));
    res.redirect(303, '/console/outbox');
  }

  @Post('outbox/republish')
  @AdminAction('outbox.republish')
  async republishMatching(@Req() req: Req_, @Res() res: Response, @Body() body: Query_) {
    if (body.confirm !== 'yes') throw new BadRequestException('Tick the confirmation to republish');
    const bulk = valid(BulkRepublishBody, body, ['_csrf', 'confirm']);
    const done = await this.operations.republishMatching(bulk);
    send(
      res,
      page(
        req,
        'Republished',
        'outbox',
        html`<p class="notice">${done.republished} event(s) go out again.</p>
          <p><a href="/console/outbox">Outbox</a></p>`,
      ),
    );
  }

  @Get('topups')
  @AdminAction('topups.show')
  async topups(@Req() req: Req_, @Res() res: Response, @Query() query: Query_) {
    const orders = this.modules.get(TopupOrdersService, { strict: false }) as
      TopupOrdersService | undefined;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const provider = text(query.provider);
    const reference = text(query.reference);
    const account = text(query.account) || 'default';
    if (
      provider.length > 32 ||
      reference.length > 191 ||
      account.length > 128 ||
      /\p{Cc}/u.test(provider + reference + account)
    )
      throw new BadRequestException('provider, account or reference is malformed');
    const order =
      orders && provider && reference ? await orders.find(provider, account, reference) : null;
    const body = orders
      ? html`<form class="filters" method="get" action="/console/topups">
            <label
              >Provider<select name="provider">
                ${orders.enabledProviders.map((p) => html`<option${p === provider ? html` selected` : ''}>${p}</option>`)}
              </select></label
            >
            <label>Your reference<input name="reference" value="${reference}" /></label
            ><label>Account<input name="account" value="${account}" /></label>
            <button type="submit">Find</button>
          </form>
          ${
            order
              ? html`<pre>${JSON.stringify(redactFields(order), null, 2)}</pre>
                  <p>
                    <a
                      href="/console/transactions/${segment(order.provider)}/${segment(order.account)}/${segment(order.reference)}"
                      >Its transaction →</a
                    >
                  </p>`
              : provider && reference
                ? html`<p class="muted">No ${provider} order with reference ${reference}.</p>`
                : ''
          }`
      : html`<p class="muted">
          Top-up orders are off on this gateway (no provider request API is configured).
        </p>`;
    send(res, page(req, 'Top-up orders', 'topups', body));
  }

  @Get('audit')
  @AdminAction('audit.list')
  async audit(@Req() req: Req_, @Res() res: Response, @Query() query: Query_) {
    const filter = valid(AuditQuery, { actionsOnly: 'true', ...query });
    const result = await this.operations.audit(filter);
    const body = html` <form class="filters" method="get" action="/console/audit">
        <label>Operator<input name="operator" value="${filter.operator ?? ''}" /></label>
        <label>Action<input name="action" value="${filter.action ?? ''}" /></label>
        <label
          >Show<select name="actionsOnly">
            <option value="true">actions</option>
            <option value="false" ${filter.actionsOnly === 'false' ? html` selected` : ''}>
              actions and reads
            </option>
          </select></label
        >
        <button type="submit">Show</button>
      </form>
      <table>
        <tr>
          <th>when</th>
          <th>operator</th>
          <th>via</th>
          <th>action</th>
          <th>target</th>
          <th>reason</th>
          <th>status</th>
        </tr>
        ${result.items.map(
          (r) =>
            html`<tr>
              <td>${time(r.at)}</td>
              <td>${r.operator ?? '—'}</td>
              <td>${r.via ?? '—'}</td>
              <td><code>${r.action}</code></td>
              <td>${r.target ?? '—'}</td>
              <td>${r.reason ?? ''}</td>
              <td>${r.status ?? '…'}</td>
            </tr>`,
        )}
      </table>`;
    send(res, page(req, 'Audit log', 'audit', body));
  }
}
