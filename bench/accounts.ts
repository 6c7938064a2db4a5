/**
 * Authentication with several S88Pay accounts: `npm run bench:accounts`. S88Pay has no signature,
 * so a callback is found by decrypting it with each account's keys in turn; this measures how that
 * work grows with 10 accounts against 1 account (the baseline, measured in the same run), for a
 * callback of the first account, of the last one, and a forgery (every key tried). Figures are
 * ratios to the baseline; the absolute rate depends on the machine. BENCH_DURATION_S: seconds per
 * case (default 2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/gateway-config.js';
import type { InboundCallback } from '../src/ingest/callback-provider.js';
import { S88payProvider } from '../src/providers/s88pay/s88pay.provider.js';
import { s88payCallback, s88payPayload } from '../test/support/s88pay.js';

const SECONDS = Number(process.env.BENCH_DURATION_S ?? 2);
const credentials = (i: number) => ({
  apiKey: `bench-api-key-${i}`,
  secretKey: `bench-secret-${i}`,
});

function providerWith(accounts: number, dir: string): S88payProvider {
  const file = join(dir, `accounts-${accounts}.yaml`);
  const lines = ['s88pay:', '  accounts:'];
  for (let i = 0; i < accounts; i++) {
    const { apiKey, secretKey } = credentials(i);
    lines.push(
      `    - id: brand-${i}`,
      `      keys: [{ apiKey: ${apiKey}, secretKey: ${secretKey} }]`,
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return new S88payProvider(loadConfig({ ACCOUNTS_FILE: file }));
}

function inbound(body: unknown): InboundCallback {
  return {
    method: 'POST',
    path: '/callbacks/s88pay',
    headers: { 'content-type': 'application/json' },
    query: {},
    params: {},
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    contentType: 'application/json',
    clientIp: '127.0.0.1',
    receivedAt: new Date(),
  };
}

/** Authentications per second of `callback` (refusals count: they are work too). */
function rate(provider: S88payProvider, callback: InboundCallback): number {
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 200; i++) {
      try {
        provider.authenticate(callback);
      } catch {
        // a forgery: refused after every key was tried
      }
    }
    done += 200;
  }
  return done / SECONDS;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-accounts-'));
try {
  const one = providerWith(1, dir);
  const ten = providerWith(10, dir);
  const signedBy = (i: number) =>
    inbound(
      s88payCallback(s88payPayload({ merchant_api_key: credentials(i).apiKey }), {
        credentials: credentials(i),
      }),
    );
  const forged = inbound(
    s88payCallback(s88payPayload(), { credentials: { apiKey: 'nobody', secretKey: 'nobody' } }),
  );
  // Warm-up, then the baseline and each case alternately twice; the better of each pair.
  rate(one, signedBy(0));
  const best = (f: () => number) => Math.max(f(), f());
  const baseline = best(() => rate(one, signedBy(0)));
  const cases: Array<[string, number]> = [
    ['10 accounts, callback of the first', best(() => rate(ten, signedBy(0)))],
    ['10 accounts, callback of the last', best(() => rate(ten, signedBy(9)))],
    ['10 accounts, forgery (all 10 tried)', best(() => rate(ten, forged))],
    ['1 account, forgery', best(() => rate(one, forged))],
  ];
  console.log(
    `S88Pay authentication, ${SECONDS} s per case, ratio to 1 account (genuine callback)`,
  );
  console.log(`  baseline: 1 account, genuine callback   1.00  (${Math.round(baseline)}/s)`);
  for (const [name, value] of cases)
    console.log(`  ${name.padEnd(38)} ${(value / baseline).toFixed(2)}  (${Math.round(value)}/s)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
