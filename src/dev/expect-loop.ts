import amqplib from 'amqplib';
import { parseArgs } from 'node:util';
import { DEFAULT_ACCOUNT } from '../config/provider-accounts.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { localUrl } from '../config/startup-environment.js';
import { brokerTopology } from '../messaging/broker-topology.js';
import { defaultReference } from '../sandbox/simulation.js';

/**
 * `npm run simulate -- expect nicepay`: an expected payment end to end, as an order service sees
 * it. Creates a payment at the provider sandbox whose callbacks are NEVER sent, tells the gateway
 * to expect it (POST /payments/expected), marks it paid at the sandbox after `--pay-after`
 * seconds (still without a callback) and prints the events until the payment's final one, which
 * the gateway found by asking the provider.
 */
export const EXPECT_USAGE = [
  'Usage: npm run simulate -- expect <nicepay|mcpayment|s88pay> [--pay-after <s>|never] [--expires <s>] [--reference <ref>] [--timeout <s>]',
  '',
  '  --pay-after, -p  seconds until the payment is paid at the provider, silently (default: 3;',
  '                   never: it stays unpaid and the gateway reports it expired or overdue)',
  '  --expires, -e    seconds until the payment expires (default: 40)',
  '  --reference, -r  the merchant reference, the event subject (default: a unique SIM-… one)',
  '  --timeout, -t    seconds to wait for the final event (default: expiry + 30)',
  '',
  'Needs the gateway running with the provider sandbox as its status API (npm start embeds it),',
  'ADMIN_API_KEY set, and RabbitMQ from AMQP_URL.',
].join('\n');

const PENDING: Record<string, string> = {
  nicepay: 'pending',
  mcpayment: 'ACTIVE',
  s88pay: 'pending',
};
const PAID: Record<string, string> = {
  nicepay: 'succeeded',
  mcpayment: 'PAID',
  s88pay: 'succeeded',
};
const FINAL = new Set(['succeeded', 'failed', 'expired', 'cancelled', 'refunded', 'reversed']);

type Held = Record<string, unknown> & { fields?: Record<string, string>; iMid?: string };
const text = (value: unknown) =>
  value === undefined || value === null ? undefined : String(value);

/** The POST /payments/expected body for a transaction the sandbox holds. */
export function expectationOf(
  provider: string,
  held: Held,
  expiresAt: Date,
): Record<string, unknown> {
  const base = { provider, currency: 'IDR', expiresAt: expiresAt.toISOString() };
  if (provider === 'nicepay') {
    const fields = held.fields ?? {};
    return {
      ...base,
      account: held.iMid,
      providerTransactionId: fields.tXid,
      merchantReference: fields.referenceNo,
      amount: fields.amt,
      currency: fields.currency ?? 'IDR',
    };
  }
  if (provider === 'mcpayment') {
    const details = (held.payment_details ?? {}) as Record<string, unknown>;
    return {
      ...base,
      account: DEFAULT_ACCOUNT,
      providerTransactionId: text(held.transaction_id),
      merchantReference: text(held.order_id),
      amount: text(details.amount),
      currency: text(held.currency) ?? 'IDR',
      details: {
        externalId: text(held.external_id),
        paymentMethod: text(held.payment_method),
        paymentChannel: text(held.payment_channel),
      },
    };
  }
  return {
    ...base,
    account: DEFAULT_ACCOUNT,
    providerTransactionId: text(held.transaction_no),
    merchantReference: text(held.transaction_code),
    amount: text(held.transaction_amount),
    currency: text(held.currency_code) ?? 'IDR',
  };
}

export async function runExpectLoop(
  argv: string[],
  config: GatewayConfig,
  out: (line: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'pay-after': { type: 'string', short: 'p' },
      expires: { type: 'string', short: 'e' },
      reference: { type: 'string', short: 'r' },
      timeout: { type: 'string', short: 't' },
    },
  });
  const provider = positionals[0];
  if (positionals.length !== 1 || !Object.hasOwn(PENDING, provider)) {
    out(`Give one provider: nicepay, mcpayment or s88pay.\n\n${EXPECT_USAGE}`);
    return 1;
  }
  const settings = config.providers[provider as 'nicepay'] as {
    inquiry?: { apiUrl: string } | null;
  } | null;
  const sandbox = settings?.inquiry?.apiUrl;
  if (!sandbox) {
    out(`${provider} has no status API configured: the gateway cannot follow its payments.`);
    return 1;
  }
  const adminKey = config.admin?.apiKey;
  if (!adminKey) {
    out('ADMIN_API_KEY is not set: POST /payments/expected needs it.');
    return 1;
  }
  const expiresIn = Number(values.expires ?? 40);
  const payAfter = values['pay-after'] === 'never' ? null : Number(values['pay-after'] ?? 3);
  const timeoutMs = Number(values.timeout ?? expiresIn + 30) * 1000;
  const reference = values.reference ?? defaultReference();
  const management = config.managementPort
    ? localUrl({ host: config.host, port: config.managementPort })
    : localUrl(config);

  // 1. The payment, created at the provider; its callbacks are never sent.
  const created = await fetch(`${sandbox}/sandbox/${provider}/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: PENDING[provider], reference, send: false }),
  }).catch(() => null);
  if (!created || created.status !== 201) {
    out(
      `! the provider sandbox at ${sandbox} did not create the payment (is the gateway running? npm start embeds it)`,
    );
    return 1;
  }
  const { key, transaction } = (await created.json()) as { key: string; transaction: Held };
  out(`> ${provider} sandbox: payment ${key} created, unpaid; its callbacks will never be sent`);

  const connection = await amqplib.connect(config.amqp.url);
  try {
    const channel = await connection.createChannel();
    const { exchange } = config.amqp;
    await channel.assertExchange(exchange, 'topic', {
      durable: true,
      alternateExchange: brokerTopology(exchange).alternateExchange,
    });
    const events = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(events.queue, exchange, `payment.*.${provider}`);

    let finish: (code: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (finish = resolve));
    const timer = setTimeout(() => {
      out(`! no final event within ${timeoutMs / 1000} s`);
      finish(1);
    }, timeoutMs);
    await channel.consume(
      events.queue,
      (msg) => {
        if (!msg) return;
        const event = JSON.parse(msg.content.toString('utf8'));
        if (event.subject !== reference) return;
        const d = event.data ?? {};
        out(
          `< event ${msg.fields.routingKey}: ${provider} status ${d.providerStatus}, amount ${d.amount} ${d.currency}, ` +
            `verification ${d.verification?.method}`,
        );
        if (FINAL.has(d.status)) {
          clearTimeout(timer);
          finish(d.status === 'succeeded' ? 0 : 2);
        }
      },
      { noAck: true },
    );

    // 2. The order service tells the gateway to expect it.
    const expectation = expectationOf(
      provider,
      transaction,
      new Date(Date.now() + expiresIn * 1000),
    );
    const answer = await fetch(`${management}/payments/expected`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
      body: JSON.stringify(expectation),
    }).catch((error: Error) => error);
    if (answer instanceof Error || answer.status >= 300) {
      const said =
        answer instanceof Error ? answer.message : `${answer.status} ${await answer.text()}`;
      out(`! POST ${management}/payments/expected: ${said}`);
      clearTimeout(timer);
      return 1;
    }
    out(`> POST /payments/expected ${JSON.stringify(expectation)} → ${answer.status}`);

    // 3. Paid at the provider, silently.
    if (payAfter !== null) {
      setTimeout(() => {
        void fetch(`${sandbox}/sandbox/${provider}/transactions/${encodeURIComponent(key)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: PAID[provider], send: false }),
        }).then(
          () =>
            out(
              `> ${provider} sandbox: payment ${key} paid; no callback is sent — the gateway asks`,
            ),
          () => out(`! could not mark ${key} paid at the sandbox`),
        );
      }, payAfter * 1000).unref();
    } else {
      out(`> the payment stays unpaid: after its expiry the gateway asks once more and reports it`);
      // No final event comes: show what the operator sees once the expiry passed.
      const check = async () => {
        const listed = await fetch(`${management}/admin/expected-payments?state=overdue`, {
          headers: { 'x-admin-key': adminKey },
        }).catch(() => null);
        const items = listed?.ok
          ? ((await listed.json()) as { items: Array<Record<string, unknown>> }).items
          : [];
        const mine = items.find((item) => item.merchantReference === expectation.merchantReference);
        if (mine && mine.state !== 'open') {
          out(
            `< GET /admin/expected-payments?state=overdue: ${mine.state} — ${String(mine.lastResult)}`,
          );
          clearTimeout(timer);
          finish(2);
        } else setTimeout(() => void check(), 1_000).unref();
      };
      setTimeout(() => void check(), expiresIn * 1000).unref();
    }
    return await done;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
