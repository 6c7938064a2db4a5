import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { GatewayConfig } from '../config/gateway-config.js';
import { brokerTopology, queueOptions } from '../messaging/broker-topology.js';
import { TOPUP_PROVIDERS, TOPUP_REQUESTED } from '../topups/topup-names.js';
import { defaultReference } from '../sandbox/simulation.js';

/**
 * `npm run simulate -- topup <provider> --product S10 --dest 08123214214`: the whole top-up loop
 * as a fulfilment service sees it. Sends one `topup.requested` command to the gateway's commands
 * queue and prints what comes back: the gateway's reply (order stored), then the events of the
 * transaction (the provider's answer, then its report), until a final one.
 */
export const TOPUP_USAGE = [
  'Usage: npm run simulate -- topup <ppob|sidopulsa> [--product <code>] [--dest <number>] [--reference <ref>] [--timeout <s>]',
  '',
  '  --product, -p    product code (default: S10 for ppob, TT5 for sidopulsa)',
  '  --dest, -d       customer number (default: 08123214214)',
  '  --reference, -r  your unique refid, the event subject (default: a unique SIM-… one)',
  '  --timeout, -t    seconds to wait for the final event (default: 30)',
  '',
  'Needs the gateway running with the provider API configured (PPOB_API_URL… / SIDOPULSA_API_URL…)',
  'and the provider (or `npm run sandbox`) reachable there; RabbitMQ from AMQP_URL.',
].join('\n');

const FINAL = new Set(['succeeded', 'failed', 'expired', 'cancelled', 'refunded', 'reversed']);

export async function runTopupLoop(
  argv: string[],
  config: GatewayConfig,
  out: (line: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      product: { type: 'string', short: 'p' },
      dest: { type: 'string', short: 'd' },
      reference: { type: 'string', short: 'r' },
      timeout: { type: 'string', short: 't' },
    },
  });
  const provider = positionals[0];
  if (positionals.length !== 1 || !(TOPUP_PROVIDERS as readonly string[]).includes(provider)) {
    out(`Give one provider: ${TOPUP_PROVIDERS.join(' or ')}.\n\n${TOPUP_USAGE}`);
    return 1;
  }
  const data = {
    provider,
    reference: values.reference ?? defaultReference(),
    product: values.product ?? (provider === 'ppob' ? 'S10' : 'TT5'),
    destination: values.dest ?? '08123214214',
  };
  const timeoutMs = Number(values.timeout ?? 30) * 1000;
  const { exchange } = config.amqp;
  const queue = config.topups.commandsQueue;

  const connection = await amqplib.connect(config.amqp.url);
  try {
    const channel = await connection.createConfirmChannel();
    // Declared with the gateway's own arguments, so this works before or after the gateway.
    await channel.assertExchange(exchange, 'topic', {
      durable: true,
      alternateExchange: brokerTopology(exchange).alternateExchange,
    });
    const events = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(events.queue, exchange, `topup.*.${provider}`);
    const replies = await channel.assertQueue('', { exclusive: true, autoDelete: true });

    let finish: (code: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (finish = resolve));
    const timer = setTimeout(() => {
      out(
        `! no final event within ${timeoutMs / 1000} s (is the gateway running with ${provider} orders on?)`,
      );
      finish(1);
    }, timeoutMs);

    await channel.consume(
      replies.queue,
      (msg) => {
        if (!msg) return;
        const answer = JSON.parse(msg.content.toString('utf8'));
        out(
          `< gateway: order ${answer.created ? 'stored' : 'known already'} (placement ${answer.order?.placement}); ` +
            `it now sends the request to ${provider}`,
        );
      },
      { noAck: true },
    );
    await channel.consume(
      events.queue,
      (msg) => {
        if (!msg) return;
        const event = JSON.parse(msg.content.toString('utf8'));
        if (event.subject !== data.reference) return;
        const d = event.data ?? {};
        const version = d.transactionVersion === undefined ? '' : ` v${d.transactionVersion}`;
        const sn = d.product?.serialNumber ? `, serial number ${d.product.serialNumber}` : '';
        const message = typeof d.raw?.message === 'string' ? ` "${d.raw.message}"` : '';
        out(
          `< event ${msg.fields.routingKey}${version}: ${provider} status ${d.providerStatus}${message}${sn}`,
        );
        if (FINAL.has(d.status)) {
          clearTimeout(timer);
          finish(d.status === 'succeeded' ? 0 : 2);
        }
      },
      { noAck: true },
    );

    const command = {
      specversion: '1.0',
      id: randomUUID(),
      source: '/dev/simulate',
      type: TOPUP_REQUESTED,
      datacontenttype: 'application/json',
      data,
    };
    // The gateway's own declaration (QUEUE_TYPE), so neither side conflicts.
    await channel.assertQueue(queue, queueOptions(config.amqp.queueType));
    channel.sendToQueue(queue, Buffer.from(JSON.stringify(command)), {
      persistent: true,
      contentType: 'application/cloudevents+json',
      messageId: command.id,
      replyTo: replies.queue,
      correlationId: command.id,
    });
    await channel.waitForConfirms();
    out(`> command ${TOPUP_REQUESTED} → queue ${queue}: ${JSON.stringify(data)}`);
    return await done;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
