/**
 * Prints the gateway's events as they arrive, one aligned line each.
 *
 *   npm run events -- [binding key] [--json]   (default '#': every event)
 *
 * `--json` prints each whole CloudEvent (pretty JSON) instead of one line. Binds a temporary
 * (exclusive, auto-delete) queue to EVENTS_EXCHANGE on AMQP_URL (read as the gateway does: .env
 * outside production, else the demo configuration in development). The exchange is declared with the gateway's own
 * arguments, so this can start before the gateway. Ctrl-C stops it; the queue disappears.
 */
import amqplib, { type ConsumeMessage } from 'amqplib';
import { ConfigurationError } from '../config/environment.js';
// Registers the providers' own account sections before the configuration is loaded.
import '../providers/index.js';
import { type GatewayConfig, loadConfig } from '../config/gateway-config.js';
import { startupEnvironment } from '../config/startup-environment.js';
import { brokerTopology, redactUrl } from '../messaging/broker-topology.js';

interface EventBody {
  id?: unknown;
  subject?: unknown;
  time?: unknown;
  data?: {
    amount?: unknown;
    currency?: unknown;
    status?: unknown;
    providerStatus?: unknown;
  };
}

const text = (value: unknown): string =>
  value === null || value === undefined ? '-' : String(value);

/** routing key, id, subject, amount, status — fixed-width columns, one line per event. */
function eventLine(message: ConsumeMessage): string {
  const routingKey = message.fields.routingKey;
  let body: EventBody;
  try {
    body = JSON.parse(message.content.toString('utf8')) as EventBody;
  } catch {
    return `${routingKey.padEnd(30)}  (not JSON, ${message.content.length} bytes)`;
  }
  const data = body.data ?? {};
  const amount =
    data.amount === null || data.amount === undefined
      ? '-'
      : `${text(data.amount)} ${text(data.currency)}`;
  const status =
    data.providerStatus === undefined
      ? text(data.status)
      : `${text(data.status)} (${text(data.providerStatus)})`;
  return [
    routingKey.padEnd(30),
    text(body.id ?? message.properties.messageId).padEnd(36),
    text(body.subject).padEnd(24),
    amount.padStart(16),
    status,
  ].join('  ');
}

/** The whole message: routing key, then the CloudEvent pretty-printed (or the raw text). */
function eventJson(message: ConsumeMessage): string {
  const text = message.content.toString('utf8');
  let body: string;
  try {
    body = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    body = text;
  }
  return `# ${message.fields.routingKey}\n${body}`;
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const positionals = argv.filter((arg) => !['--json', '--help', '-h'].includes(arg));
  const unknown = positionals.filter((arg) => arg.startsWith('-'));
  if (
    argv.includes('--help') ||
    argv.includes('-h') ||
    positionals.length > 1 ||
    unknown.length > 0
  ) {
    process.stdout.write(
      'Usage: npm run events -- [binding key] [--json]\n' +
        '  binding key  default #, e.g. payment.#, #.nicepay\n' +
        '  --json       print each whole CloudEvent instead of one line\n',
    );
    return positionals.length > 1 || unknown.length > 0 ? 1 : 0;
  }
  const bindingKey = positionals[0] ?? '#';
  let config: GatewayConfig;
  try {
    config = loadConfig(startupEnvironment().env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const { url, exchange } = config.amqp;
  let connection: amqplib.ChannelModel;
  try {
    connection = await amqplib.connect(url);
  } catch (error) {
    process.stderr.write(
      `Could not connect to RabbitMQ at ${redactUrl(url)}: ${(error as Error).message}\n`,
    );
    return 1;
  }
  let stopping = false;
  const closed = new Promise<number>((resolve) => {
    connection.on('close', () => resolve(stopping ? 0 : 1));
    connection.on('error', (error: Error) => {
      if (!stopping) process.stderr.write(`RabbitMQ connection error: ${error.message}\n`);
    });
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    connection.close().catch(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  try {
    const channel = await connection.createChannel();
    // Exactly the gateway's declaration (see EventPublisher), so neither side conflicts.
    await channel.assertExchange(exchange, 'topic', {
      durable: true,
      alternateExchange: brokerTopology(exchange).alternateExchange,
    });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, bindingKey);
    await channel.consume(
      queue,
      (message) => {
        if (message) process.stdout.write(`${json ? eventJson(message) : eventLine(message)}\n`);
      },
      { noAck: true },
    );
  } catch (error) {
    process.stderr.write(`Could not bind to ${exchange}: ${(error as Error).message}\n`);
    stopping = true;
    await connection.close().catch(() => undefined);
    return 1;
  }
  process.stderr.write(
    `Listening on exchange ${exchange} at ${redactUrl(url)}, binding key ${bindingKey} (Ctrl-C to stop)\n`,
  );
  return closed;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`events failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
