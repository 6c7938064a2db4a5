import type { IncomingMessage } from 'node:http';
import type { SandboxContext } from './sandbox-provider.js';

/**
 * What the PPOB server and Sidopulsa sandboxes share: a product price list, the behaviour
 * switches tests and the simulate loop rely on, and report delivery to the gateway.
 */

/** Products both sandboxes sell, with their price (IDR). */
export const SANDBOX_PRODUCTS: Readonly<Record<string, string>> = {
  S5: '5500',
  S10: '10500',
  S20: '20500',
  TT5: '9000',
  TS10: '10400',
  PLN20: '20500',
};

/** A destination ending in these digits (0000) is reported failed (the operator refused it). */
export const SANDBOX_FAILING_SUFFIX = '0000';

export interface TopupSandboxTiming {
  /** Delay between the order's answer and its report callback (default 500 ms). */
  reportDelayMs?: number;
  /**
   * Holds the answer to the `attempt`-th request (1, 2, …) for a refid this long, after the
   * order is taken: a slow provider whose answer the gateway may give up on.
   */
  answerDelayMs?: (reference: string, attempt: number) => number;
}

/** One request the sandbox received, for tests: which refid, and what it answered. */
export interface SandboxRequestRecord {
  path: string;
  reference: string | null;
  /** `created`, `repeat`, or the refusal (`signature`, `rc 04`, …). */
  outcome: string;
  at: Date;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { sendJson } from './sandbox-http.js';

/** The request's path (no query) and parsed query. */
export function requestTarget(req: IncomingMessage): { path: string; query: URLSearchParams } {
  const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
  return { path: url.pathname, query: url.searchParams };
}

/**
 * Sends a report to the gateway after `delayMs`, retrying a few times while the gateway does not
 * answer 200 (as providers do). Never throws: a sandbox must not crash on a gateway outage.
 */
export function deliverReport(
  context: SandboxContext,
  delayMs: number,
  path: string,
  onDelivered?: (status: number) => void,
): void {
  void (async () => {
    await sleep(delayMs);
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      try {
        const status = await context.sendCallback({ method: 'GET', path });
        if (status === 200) {
          onDelivered?.(status);
          return;
        }
      } catch {
        // gateway unreachable: try again
      }
      await sleep(Math.min(500 * attempt, 3_000));
    }
  })();
}

let serial = Math.floor(Math.random() * 1_000_000);

/** A fresh numeric id (transaction id, serial number digits). */
export function nextNumber(): number {
  serial += 1;
  return serial;
}
