import type { TestBed } from '../support/gateway.js';

/** The value of gateway_callbacks_total for a provider and outcome, scraped now. */
export async function callbacksMetric(
  bed: TestBed,
  provider: string,
  outcome: string,
): Promise<number> {
  const text = await (await fetch(`${bed.gateway.url}/metrics`)).text();
  // Summed over the other labels (account): only provider and outcome matter here.
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('gateway_callbacks_total{') &&
        l.includes(`provider="${provider}"`) &&
        l.includes(`outcome="${outcome}"`),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}
