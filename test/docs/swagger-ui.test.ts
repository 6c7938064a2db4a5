/**
 * Swagger UI in a real browser (Debian's Chromium through playwright-core): for every provider,
 * "Try it out" → "Execute" as shown gives a 2xx and a new event, and again after a reload.
 * Skipped, saying why, when /usr/bin/chromium is absent (`apt-get install -y chromium`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { sleep } from '../support/broker.js';
import { createTestBed, type TestBed } from '../support/gateway.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does)`;

/** The operation each provider is tried on, and the routing key its example must produce. */
const OPERATIONS = [
  { method: 'post', path: '/callbacks/nicepay', routingKey: 'payment.succeeded.nicepay' },
  { method: 'post', path: '/callbacks/mcpayment', routingKey: 'payment.succeeded.mcpayment' },
  { method: 'post', path: '/callbacks/s88pay', routingKey: 'payment.succeeded.s88pay' },
  { method: 'get', path: '/callbacks/sidopulsa/{token}', routingKey: 'topup.succeeded.sidopulsa' },
  { method: 'get', path: '/callbacks/ppob/{token}', routingKey: 'topup.succeeded.ppob' },
];

describe('Swagger UI: Try it out → Execute works for every provider, every time', { skip }, () => {
  let bed: TestBed;
  let browser: BrowserContext;
  let profile: string;

  before(async () => {
    // Test credentials and tokens, not the demo ones: the examples must carry what is configured.
    bed = await createTestBed('sqlite', { DEV_TOOLS_ENABLED: 'true', DOCS_ENABLED: 'true' });
    profile = mkdtempSync(join(tmpdir(), 'gw-chromium-'));
    const { chromium } = await import('playwright-core');
    // A persistent context is how playwright passes a fresh --user-data-dir (the profile).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await bed?.teardown();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Opens /docs, runs one operation as shown, returns the status Swagger UI displays. */
  async function execute(page: Page, method: string, path: string): Promise<number> {
    await page.goto(`${bed.gateway.url}/docs`, { waitUntil: 'domcontentloaded' });
    const block = page
      .locator(`.opblock.opblock-${method}`)
      .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
    await block.locator('.opblock-summary').first().click();
    await block.getByRole('button', { name: 'Try it out' }).click();
    await block.getByRole('button', { name: 'Execute' }).click();
    const status = block.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    return Number((await status.innerText()).trim().split(/\s/)[0]);
  }

  async function waitForEvents(routingKey: string, count: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (bed.tap.messages.filter((m) => m.fields.routingKey === routingKey).length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} ${routingKey} events`);
      await sleep(50);
    }
  }

  for (const { method, path, routingKey } of OPERATIONS) {
    it(`${method.toUpperCase()} ${path}: 2xx and a new ${routingKey} event, twice`, async () => {
      const page = await browser.newPage();
      try {
        for (const round of [1, 2]) {
          const status = await execute(page, method, path);
          assert.ok(status >= 200 && status < 300, `round ${round}: Swagger UI shows ${status}`);
          await waitForEvents(routingKey, round);
        }
        // Two page loads, two distinct transactions: no duplicate was answered.
        const events = bed.tap.messages.filter((m) => m.fields.routingKey === routingKey);
        assert.equal(new Set(events.map((m) => m.properties.messageId)).size, 2);
      } finally {
        await page.close();
      }
    });
  }
});
