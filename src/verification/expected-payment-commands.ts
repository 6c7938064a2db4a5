import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { BrokerStatus } from '../messaging/broker-status.js';
import {
  commandEnvelope,
  CommandConsumer,
  CommandDeadLetters,
  type CommandQueues,
  CommandRefused,
  validateCommandData,
} from '../messaging/commands.js';
import { ExpectedPaymentDto, ExpectedPaymentRefused } from './expected-payments.js';
import { ExpectedPaymentsService } from './expected-payments.service.js';

/** The CloudEvent type of the command: "I created this payment; follow it". */
export const PAYMENT_EXPECTED = 'payment.expected';

function expectedQueues(config: GatewayConfig): CommandQueues {
  return {
    component: 'expected-payment-commands',
    commands: config.verification.expected.commandsQueue ?? '',
    deadLetters: config.verification.expected.deadLetterQueue,
  };
}

/** Reads a `payment.expected` CloudEvent: the envelope, then `data` as ExpectedPaymentDto. */
export function parseExpectedPaymentCommand(value: unknown): {
  id: string;
  payment: ExpectedPaymentDto;
} {
  const { id, data } = commandEnvelope(value, PAYMENT_EXPECTED);
  return { id, payment: validateCommandData(ExpectedPaymentDto, data, 'expected payment') };
}

/** The dead-letter queue of `payment.expected` commands the gateway cannot take. */
@Injectable()
export class ExpectedPaymentDeadLetters
  extends CommandDeadLetters
  implements OnModuleInit, OnApplicationShutdown
{
  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, status: BrokerStatus) {
    super(config, status, () => expectedQueues(config));
  }

  onModuleInit(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

/**
 * Consumes `payment.expected` commands (CommandConsumer): the payment is stored and followed, a
 * repeat is acknowledged as it is, a conflicting repeat or one the provider cannot be asked about
 * is dead-lettered with the reason, a storage outage returns it to the queue.
 */
@Injectable()
export class ExpectedPaymentCommandConsumer extends CommandConsumer<ExpectedPaymentDto> {
  private readonly log = new Logger('Broker:expected-payment-commands');

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    status: BrokerStatus,
    private readonly expected: ExpectedPaymentsService,
    deadLetters: ExpectedPaymentDeadLetters,
  ) {
    super(config, status, deadLetters, 'Expected-payment command');
  }

  protected get logger(): Logger {
    return this.log;
  }

  protected queues(): CommandQueues {
    return expectedQueues(this.config);
  }

  protected parse(value: unknown): { id: string; payload: ExpectedPaymentDto } {
    const { id, payment } = parseExpectedPaymentCommand(value);
    return { id, payload: payment };
  }

  protected async handle(payment: ExpectedPaymentDto): Promise<unknown> {
    try {
      const { created, payment: view } = await this.expected.register(payment, 'amqp');
      this.expected.commands.inc({ source: 'amqp', outcome: created ? 'accepted' : 'repeated' });
      return { created, payment: view };
    } catch (error) {
      if (error instanceof ExpectedPaymentRefused) {
        this.expected.commands.inc({
          source: 'amqp',
          outcome: error.kind === 'conflict' ? 'conflict' : 'invalid',
        });
        throw new CommandRefused(error.message);
      }
      throw error;
    }
  }

  protected count(outcome: 'dead-lettered' | 'unavailable'): void {
    this.expected.commands.inc({ source: 'amqp', outcome });
  }
}
