/**
 * Swagger UI in a real browser (Debian's Chromium through playwright-core): for every provider,
 * "Try it out" → "Execute" as shown gives a 2xx and a new event, and again after a reload; the
 * routes without a token (401 while a token is configured) are not on the page. On
 * the gateway a newcomer gets (`npm start` on a fresh clone: the demo configuration, with its
 * status inquiries to the embedded sandbox) and on one with other credentials and tokens (the
 * examples carry what is configured). Skipped, saying why, when /usr/bin/chromium is absent
 * (`apt-get install -y chromium`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { EventTap, sleep } from '../support/broker.js';
import { banner, startDemoGateway } from '../support/demo-gateway.js';
import { createTestBed } from '../support/gateway.js';

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

/**
 * The demo's SNAP accounts, one per shipped profile (demo/snap-accounts.yaml): each has its own
 * route on the page; the DOKU-style one (family B) is authorized first with the token its
 * example is signed with.
 */
const SNAP_OPERATIONS = ['nicepay-snap', 'ifortepay-snap', 'doku-snap', 'midtrans-snap'].map(
  (account) => ({
    method: 'post',
    path: `/callbacks/snap/${account}/v1.0/transfer-va/payment`,
    routingKey: 'payment.succeeded.snap',
    account,
    authorize: account === 'doku-snap',
  }),
);

/** A running gateway with a queue bound to its exchange. */
interface Target {
  url: string;
  tap: EventTap;
  stop(): Promise<void>;
}

describe('Swagger UI: Try it out → Execute works for every provider, every time', { skip }, () => {
  let browser: BrowserContext;
  let profile: string;

  before(async () => {
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
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /**
   * Opens /docs, runs one operation as shown (after authorizing it with the value its security
   * scheme's description gives, when `authorize`), returns the status Swagger UI displays.
   */
  async function execute(
    page: Page,
    url: string,
    method: string,
    path: string,
    authorize = false,
  ): Promise<number> {
    await page.goto(`${url}/docs`, { waitUntil: 'domcontentloaded' });
    const block = page
      .locator(`.opblock.opblock-${method}`)
      .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
    await block.locator('.opblock-summary').first().click();
    if (authorize) {
      await block.locator('.authorization__btn').first().click();
      const modal = page.locator('.modal-ux');
      const value = (
        await modal.locator('code').filter({ hasText: 'Bearer ' }).first().innerText()
      ).trim();
      await modal.locator('input').first().fill(value);
      await modal.getByRole('button', { name: 'Apply credentials' }).click();
      await modal.locator('button.btn-done').click();
    }
    await block.getByRole('button', { name: 'Try it out' }).click();
    await block.getByRole('button', { name: 'Execute' }).click();
    const status = block.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    return Number((await status.innerText()).trim().split(/\s/)[0]);
  }

  /** Each provider's operation, executed twice on a fresh page load: a 2xx and a new event each. */
  function everyProvider(start: () => Promise<Target>, operations = OPERATIONS): void {
    let target: Target;
    before(async () => {
      target = await start();
    });
    after(async () => {
      await target?.stop();
    });

    /** The operation's events: its routing key (and account: SNAP accounts share one). */
    const eventsOf = (routingKey: string, account?: string) =>
      target.tap.messages.filter(
        (m) =>
          m.fields.routingKey === routingKey &&
          (account === undefined ||
            JSON.parse(m.content.toString('utf8')).data?.account === account),
      );

    // The demo publishes NICEPAY, MCPayment and S88Pay events once its status inquiry confirmed.
    async function waitForEvents(routingKey: string, count: number, account?: string) {
      const deadline = Date.now() + 30_000;
      while (eventsOf(routingKey, account).length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} ${routingKey} events`);
        await sleep(50);
      }
    }

    it('shows no callback route that can only answer 401 (the routes without a token)', async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${target.url}/docs`, { waitUntil: 'domcontentloaded' });
        await page.locator('.opblock-summary-path').first().waitFor();
        const paths = await page
          .locator('.opblock-summary-path')
          .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-path')));
        assert.ok(paths.includes('/callbacks/sidopulsa/{token}'), paths.join(' '));
        for (const tokenless of ['/callbacks/sidopulsa', '/callbacks/ppob']) {
          assert.ok(!paths.includes(tokenless), `${tokenless} is on the page`);
        }
      } finally {
        await page.close();
      }
    });

    for (const { method, path, routingKey, account, authorize } of operations as Array<
      (typeof OPERATIONS)[number] & { account?: string; authorize?: boolean }
    >) {
      it(`${method.toUpperCase()} ${path}: 2xx and a new ${routingKey} event, twice`, async () => {
        const page = await browser.newPage();
        try {
          for (const round of [1, 2]) {
            const status = await execute(page, target.url, method, path, authorize);
            assert.ok(status >= 200 && status < 300, `round ${round}: Swagger UI shows ${status}`);
            await waitForEvents(routingKey, round, account);
          }
          // Two page loads, two distinct transactions: no duplicate was answered.
          const events = eventsOf(routingKey, account);
          assert.equal(new Set(events.map((m) => m.properties.messageId)).size, 2);
        } finally {
          await page.close();
        }
      });
    }
  }

  describe('on the demo gateway of `npm start` on a fresh clone', () => {
    everyProvider(async () => {
      const gateway = await startDemoGateway();
      const tap = await EventTap.bind(gateway.exchange).catch(async (error: unknown) => {
        await gateway.stop();
        throw error;
      });
      const stop = async () => {
        await tap.close();
        await gateway.stop();
      };
      if (!banner(gateway.stderr()).some((line) => line.startsWith('DEMO CONFIGURATION'))) {
        await stop();
        throw new Error(`not the demo configuration:\n${gateway.stderr()}`);
      }
      return { url: gateway.url, tap, stop };
    }, [...OPERATIONS, ...SNAP_OPERATIONS]);
  });

  describe('on a gateway with other credentials and tokens than the demo', () => {
    everyProvider(async () => {
      const bed = await createTestBed('sqlite', {
        DEV_TOOLS_ENABLED: 'true',
        DOCS_ENABLED: 'true',
      });
      return { url: bed.gateway.url, tap: bed.tap, stop: () => bed.teardown() };
    });
  });
});
