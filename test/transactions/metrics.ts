import type { TestBed } from '../support/gateway.js';

/** The value of gateway_callbacks_total for a provider and outcome, scraped now. */
export async function callbacksMetric(
  bed: TestBed,
  provider: string,
  outcome: string,
): Promise<number> {
  const text = await (await fetch(`${bed.gateway.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith(`gateway_callbacks_total{provider="${provider}",outcome="${outcome}"}`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}
