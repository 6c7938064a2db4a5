/**
 * The operator console in a real browser (Debian's Chromium through playwright-core) walking the
 * support case of issue 25: find the transaction by the order reference, read its timeline, see
 * the held event's amount, publish it with a reason as an operator, find the action in the audit
 * log; a viewer cannot act; no page or answer holds a configured secret; the pages read without
 * JavaScript. Screenshots of the main pages go to docs/console/*.png (docs/console.md). Skipped,
 * saying why, when /usr/bin/chromium is absent (`apt-get install -y chromium`).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../support/chromium.js';
import { ALICE_KEY, BOB_KEY, startSupportCase, type SupportCase } from './support-case.js';

const SCREENSHOTS = join(process.cwd(), 'docs', 'console');

describe('the operator console in a browser: the support case', { skip: chromiumMissing }, () => {
  let support: SupportCase;
  const profiles: string[] = [];
  const contexts: BrowserContext[] = [];
  /** Every body the browser received, to look for secrets in. */
  const received: Array<{ url: string; text: string }> = [];

  async function browser(javaScriptEnabled = true): Promise<BrowserContext> {
    const profile = mkdtempSync(join(tmpdir(), 'gw-console-chromium-'));
    profiles.push(profile);
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      javaScriptEnabled,
      viewport: { width: 1280, height: 900 },
    });
    context.on('response', (response) => {
      void response
        .text()
        .then((text) => received.push({ url: response.url(), text }))
        .catch(() => undefined);
    });
    contexts.push(context);
    return context;
  }

  async function signIn(page: Page, key: string, path = '/console'): Promise<void> {
    await page.goto(`${support.url}${path}`);
    assert.match(page.url(), /\/console\/login\?next=/);
    await page.fill('input[name="key"]', key);
    await Promise.all([
      page.waitForURL((url) => !url.pathname.endsWith('/login')),
      page.click('button[type="submit"]'),
    ]);
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    support = await startSupportCase();
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
    await support?.close();
  });

  it('an operator finds the order, reads the timeline and the held amount, publishes it with a reason, and finds it in the audit log', async () => {
    const page = await (await browser()).newPage();
    await signIn(page, ALICE_KEY);
    assert.match(await page.locator('header .who').innerText(), /alice · operator/);
    // The overview's figures are the metrics of the same names.
    const metrics = await (await fetch(`${support.url}/metrics`)).text();
    const backlog = /^gateway_verification_backlog (\d+)/m.exec(metrics)?.[1];
    assert.equal(
      (await page.locator('[data-metric="gateway_verification_backlog"] b').innerText()).trim(),
      backlog,
    );
    await shot(page, 'overview');

    await page.click('nav >> text=Search');
    await page.fill('input[name="reference"]', support.orderReference);
    await page.click('form.filters button[type="submit"]');
    const rows = page.locator('table tr').filter({ hasText: 'mcpayment' });
    await rows.first().waitFor();
    const outcomes = await rows.locator('.badge').allInnerTexts();
    assert.ok(outcomes.includes('verifying'), outcomes.join());
    assert.ok(outcomes.includes('rejected_auth'), 'the refused attempt of the same order is found');
    await shot(page, 'search');

    await page.click(`a:text("${support.transactionKey}")`);
    const held = page.locator(`#held-${support.heldCallbackId}`);
    assert.equal(await held.locator('[data-field="amount"]').innerText(), support.amount);
    assert.equal(await held.locator('[data-field="currency"]').innerText(), 'IDR');
    assert.match(await held.locator('[data-field="status"]').innerText(), /succeeded/);
    assert.ok((await page.locator('tr[data-kind="callback"]').count()) >= 1, 'the timeline');
    await shot(page, 'transaction');

    await page.click(`a:text("inspect")`);
    assert.match(await page.locator('pre').first().innerText(), /\[redacted\]/);
    await shot(page, 'callback');
    await page.goBack();

    const reason = 'customer sent the bank receipt, ticket 4711';
    await held.locator('textarea[name="reason"]').fill(reason);
    await held.locator('input[name="confirm"]').check();
    await Promise.all([
      page.waitForURL(/published=/),
      held.locator('button:text("Publish")').click(),
    ]);
    assert.equal(
      await page.locator(`#held-${support.heldCallbackId}`).count(),
      0,
      'no longer held',
    );
    assert.match(await page.locator('tr[data-kind="action"]').innerText(), /alice/);

    await page.click('nav >> text=Audit log');
    const row = page.locator('table tr').filter({ hasText: 'verifications.publish-unverified' });
    assert.match(await row.innerText(), new RegExp(`alice[\\s\\S]*${reason}`));
    await shot(page, 'audit');
    for (const [nav, name] of [
      ['Attention', 'attention'],
      ['Outbox', 'outbox'],
    ]) {
      await page.click(`nav >> text=${nav}`);
      await shot(page, name);
    }
    // The published event carries the operator's name.
    const events = support.bed.tap
      .bodies()
      .filter((b) => b.data.merchantReference === support.orderReference);
    assert.equal(events.at(-1)?.data.verification.by, 'alice');
  });

  it('a viewer reads the same pages, sees no action, and an action posted anyway is refused 403', async () => {
    const page = await (await browser()).newPage();
    await signIn(page, BOB_KEY, '/console/outbox');
    await page.goto(`${support.url}/console/search?reference=${support.orderReference}`);
    await page.click(`a:text("${support.transactionKey}")`);
    assert.equal(await page.locator('form[action*="/publish"]').count(), 0);
    const refused = await page.evaluate(
      async ([id]) => {
        const res = await fetch(`/console/verifications/${id}/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'reason=because&confirm=yes',
        });
        return { status: res.status, text: await res.text() };
      },
      [support.heldCallbackId],
    );
    assert.equal(refused.status, 403);
    assert.match(refused.text, /bob has the role viewer/);
  });

  it('the pages read without JavaScript', async () => {
    const page = await (await browser(false)).newPage();
    await signIn(page, BOB_KEY, '/console/audit');
    await page.goto(
      `${support.url}/console/transactions/mcpayment/default/${encodeURIComponent(support.transactionKey)}`,
    );
    assert.match(await page.locator('table').first().innerText(), /mcpayment/);
    assert.ok((await page.locator('tr[data-kind="action"]').count()) >= 1);
    assert.equal(await page.locator('script').count(), 0);
  });

  it('no page or answer holds a configured secret', () => {
    assert.ok(received.length > 20, `${received.length} responses seen`);
    for (const { url, text } of received)
      for (const secret of support.secrets)
        assert.ok(!text.includes(secret), `${url} contains a configured secret`);
  });
});
