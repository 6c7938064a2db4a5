import { createHash } from 'node:crypto';
import { sleep } from '../support/broker.js';
import type { TestBed } from '../support/gateway.js';

export const ADMIN_KEY = 'admin-test-key-0123456789abcdef';
export const ADMIN_FINGERPRINT = createHash('sha256').update(ADMIN_KEY).digest('hex').slice(0, 8);

// Assertions read arbitrary nested fields of the answers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function admin(
  bed: TestBed,
  method: 'GET' | 'POST',
  path: string,
  key: string | null = ADMIN_KEY,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${bed.gateway.url}${path}`, {
    method,
    headers: key === null ? {} : { 'x-admin-key': key },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function count(bed: TestBed, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await bed.db.query<{ n: string | number }>(sql, params);
  return Number(row.n);
}
