/**
 * The benchmark's verification phase: durable NICEPAY callbacks on PostgreSQL with status
 * inquiry ON, each one confirmed by the provider sandbox (in this process, over loopback HTTP),
 * to compare with the same phase with verification off: acks per second and ack latency (the
 * inquiry is never on the ack path), and verified events per second. Then the same at a fixed rate,
 * to compare the ack latency with the verification-off phase of the same rate. Inquiries are
 * limited to BENCH_VERIFY_RATE per second (VERIFY_RATE_PER_SECOND; default here 2000, the
 * gateway's default is 50, a provider's API limit).
 */
import type { NicepaySandbox } from '../src/providers/nicepay/nicepay.sandbox.js';
import { deleteTopology, sleep, uniqueExchange } from '../test/support/broker.js';
import { createTestDatabase } from '../test/support/databases.js';
import { startTestSandbox } from '../test/support/sandbox.js';
import { Consumer } from './consumer.js';
import { drive, Ledger, type Phase, startGateway, workload } from './load.js';

export interface VerificationRun {
  phase: Phase;
  /** NICEPAY at a fixed rate with verification on: the ack latency to compare with off. */
  fixed: Phase;
  /** VERIFY_RATE_PER_SECOND the gateway ran with. */
  ratePerSecond: number;
  /** Unique acknowledged callbacks whose verified event arrived. */
  verified: number;
  acknowledged: number;
  /** Verified events per second, from the phase start to the last event. */
  verifiedPerSecond: number;
}

/** Inquiries per second per account in this phase (the provider's limit is the real bound). */
const VERIFY_RATE = Number(process.env.BENCH_VERIFY_RATE ?? 2000);

export async function verificationPhase(
  duration: number,
  rate: number,
  rateDuration: number,
): Promise<VerificationRun> {
  const db = await createTestDatabase('postgres');
  const exchange = uniqueExchange();
  const sandbox = await startTestSandbox();
  const consumer = await Consumer.bind(exchange);
  const arrived = consumer.receivedAt;
  const gateway = await startGateway({
    ...db.env,
    ...sandbox.env,
    EVENTS_EXCHANGE: exchange,
    VERIFY_RATE_PER_SECOND: String(VERIFY_RATE),
  });
  sandbox.sandbox.setGatewayUrl(gateway.url);
  try {
    const nicepay = sandbox.sandbox.provider<NicepaySandbox>('nicepay');
    const hold = (list: ReturnType<typeof workload>) => {
      for (const callback of list) nicepay.register(callback);
      return list;
    };
    await drive(gateway.url, 'warm-up', hold(workload(2000, ['nicepay'])), new Ledger(), {
      duration: 3,
    });
    const ledger = new Ledger();
    const list = hold(workload(duration * 5000, ['nicepay']));
    const start = performance.now();
    const phase = await drive(
      gateway.url,
      'NICEPAY max, verification on (PostgreSQL)',
      list,
      ledger,
      {
        duration,
      },
    );
    const deadline = Date.now() + 120_000;
    while ([...ledger.acknowledged].some((id) => !arrived.has(id)) && Date.now() < deadline)
      await sleep(200);
    const verified = [...ledger.acknowledged].filter((id) => arrived.has(id));
    const last = Math.max(...verified.map((id) => arrived.get(id)!));
    // The ack latency at a fixed rate, once the backlog of the max phase is verified.
    const fixed = await drive(
      gateway.url,
      `NICEPAY fixed ${rate}/s, verification on`,
      hold(workload(rate * rateDuration + 1000, ['nicepay'])),
      new Ledger(),
      { duration: rateDuration, overallRate: rate, connections: 16 },
    );
    return {
      phase,
      fixed,
      ratePerSecond: VERIFY_RATE,
      verified: verified.length,
      acknowledged: ledger.acknowledged.size,
      verifiedPerSecond: (1000 * verified.length) / Math.max(1, last - start),
    };
  } finally {
    await gateway.stop();
    await consumer.close().catch(() => undefined);
    await sandbox.sandbox.close();
    await deleteTopology(exchange).catch(() => undefined);
    await db.drop();
  }
}
