/**
 * The callback path's own functions, timed alone (issue 28): `npm run bench:functions`.
 *
 * The floor comparison's rounds swing by ±10% on a shared machine, more than a lever of a few
 * percent; these figures do not depend on the database, the broker or the load generator. For one
 * NICEPAY VA notification (fixed values, with a customer e-mail address and phone number, signed
 * with the test credentials): the form parse, the DTO validation, the stored event's head, the
 * published body (masked) and the masking alone, in microseconds per call — the best of 7 runs of
 * BENCH_FUNCTIONS_CALLS calls (default 20,000) after a warm-up, each build in its own process,
 * builds alternating over BENCH_FUNCTIONS_ROUNDS rounds (default 3; the table shows the best).
 *
 * BENCH_FUNCTIONS_BUILDS=<label>=<checkout>,… compares builds: each checkout's `dist/` (built with
 * `npm run build` or `tsc`); default: this checkout only, as `this`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nicepayNotification } from '../test/support/nicepay.js';
import { fmt, table } from './load.js';

const FUNCTIONS = [
  'parseFlatForm',
  'validateFields',
  'payloadHead',
  'publishedBody',
  'maskPersonalData',
] as const;
type Timings = Record<(typeof FUNCTIONS)[number], number>;

/** Runs in a child: times the functions of the build under `checkout`. */
async function measure(checkout: string, calls: number): Promise<Timings> {
  const load = (path: string) => import(pathToFileURL(`${checkout}/dist/src/${path}`).href);
  const { parseFlatForm } = await load('http/body-parsing.js');
  const { validateFields } = await load('common/validate-fields.js');
  const { NicepayNotificationDto } = await load('providers/nicepay/nicepay.dto.js');
  const { buildTransactionEvent, payloadHead } = await load('events/transaction-event.js');
  const { publishedBody } = await load('events/published-payload.js');
  const { maskPersonalData } = await load('common/personal-data.js');
  const form = new URLSearchParams(
    nicepayNotification({
      tXid: 'IONPAYTEST02012412061230000001',
      referenceNo: 'ORD-20241206-0001',
      billingEmail: 'budi.santoso@example.co.id',
      billingPhone: '081234567890',
      fee: '',
    }),
  ).toString();
  const fields = parseFlatForm(form);
  const dto = validateFields(NicepayNotificationDto, fields, 'NICEPAY callback');
  const event = buildTransactionEvent({
    provider: 'nicepay',
    account: 'IONPAYTEST',
    callbackId: '019300a0-0000-7000-8000-000000000001',
    receivedAt: new Date('2024-12-06T05:30:00Z'),
    transaction: {
      domain: 'payment',
      status: 'succeeded',
      providerStatus: '0',
      providerTransactionId: dto.tXid,
      merchantReference: dto.referenceNo,
      amount: dto.amt,
      currency: 'IDR',
      fee: null,
      paymentMethod: 'virtual_account',
      channel: 'BMRI',
      product: null,
      occurredAt: new Date('2024-12-06T05:29:58Z'),
      raw: fields,
    },
  });
  const keep = new Set([dto.tXid, dto.referenceNo, event.body.subject]);
  const transition = { previousStatus: null, transactionVersion: 1 };
  const work: Record<keyof Timings, () => unknown> = {
    parseFlatForm: () => parseFlatForm(form),
    validateFields: () => validateFields(NicepayNotificationDto, fields, 'NICEPAY callback'),
    payloadHead: () => payloadHead(event.body),
    publishedBody: () => publishedBody(event.body, transition),
    maskPersonalData: () => maskPersonalData(event.body.data.raw, keep),
  };
  const timings = {} as Timings;
  for (const name of FUNCTIONS) {
    const fn = work[name];
    for (let i = 0; i < 5000; i += 1) fn();
    let best = Infinity;
    for (let run = 0; run < 7; run += 1) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < calls; i += 1) fn();
      best = Math.min(best, Number(process.hrtime.bigint() - started) / calls / 1000);
    }
    timings[name] = best;
  }
  return timings;
}

async function main(): Promise<void> {
  const calls = Number(process.env.BENCH_FUNCTIONS_CALLS ?? 20_000);
  if (process.argv[2] === 'measure') {
    process.stdout.write(JSON.stringify(await measure(process.argv[3], calls)));
    return;
  }
  const here = fileURLToPath(new URL('../..', import.meta.url));
  const builds = (process.env.BENCH_FUNCTIONS_BUILDS ?? `this=${here}`)
    .split(',')
    .filter(Boolean)
    .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]);
  const rounds = Number(process.env.BENCH_FUNCTIONS_ROUNDS ?? 3);
  const best = new Map<string, Timings>();
  for (let round = 0; round < rounds; round += 1) {
    for (const [label, checkout] of builds) {
      const output = execFileSync(
        process.execPath,
        [fileURLToPath(import.meta.url), 'measure', checkout],
        { encoding: 'utf8', env: { ...process.env, BENCH_FUNCTIONS_CALLS: String(calls) } },
      );
      const timings = JSON.parse(output) as Timings;
      const known = best.get(label);
      best.set(
        label,
        known
          ? (Object.fromEntries(
              FUNCTIONS.map((name) => [name, Math.min(known[name], timings[name])]),
            ) as Timings)
          : timings,
      );
    }
  }
  const labels = builds.map(([label]) => label);
  const first = best.get(labels[0])!;
  process.stdout.write(
    `\nThe callback path's functions, µs per call (best of ${rounds} rounds × 7 runs × ${calls} calls), Node ${process.version}\n\n`,
  );
  process.stdout.write(
    table(
      ['function', ...labels, ...labels.slice(1).map((label) => `${label} ÷ ${labels[0]}`)],
      FUNCTIONS.map((name) => [
        name,
        ...labels.map((label) => fmt(best.get(label)![name], 2)),
        ...labels.slice(1).map((label) => fmt(best.get(label)![name] / first[name], 2)),
      ]),
    ),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
