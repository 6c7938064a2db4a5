import { Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { BrokerStatus } from '../messaging/broker-status.js';
import { CommandConsumer, type CommandQueues, CommandRefused } from '../messaging/commands.js';
import { parseTopupCommand } from './topup-commands.js';
import { TopupDeadLetters } from './topup-dead-letters.js';
import { TopupMetrics } from './topup-metrics.js';
import type { TopupOrderDto } from './topup-order.dto.js';
import { TopupOrderRefused, TopupOrdersService } from './topup-orders.service.js';

/**
 * Consumes `topup.requested` commands (CommandConsumer): a command is acknowledged only after its
 * order is committed; a repeat is acknowledged without a second order; one the gateway can never
 * take goes to the dead-letter queue with the reason; a storage outage returns it to the queue.
 */
@Injectable()
export class TopupCommandConsumer extends CommandConsumer<TopupOrderDto> {
  private readonly log = new Logger('Broker:topup-commands');

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    status: BrokerStatus,
    private readonly orders: TopupOrdersService,
    deadLetters: TopupDeadLetters,
    private readonly metrics: TopupMetrics,
  ) {
    super(config, status, deadLetters, 'Top-up command');
  }

  protected get logger(): Logger {
    return this.log;
  }

  protected queues(): CommandQueues {
    return {
      component: 'topup-commands',
      commands: this.config.topups.commandsQueue,
      deadLetters: this.config.topups.deadLetterQueue,
    };
  }

  protected parse(value: unknown): { id: string; payload: TopupOrderDto } {
    const { id, order } = parseTopupCommand(value);
    return { id, payload: order };
  }

  protected async handle(order: TopupOrderDto, id: string): Promise<unknown> {
    try {
      const { created, order: view } = await this.orders.submit(order, 'amqp', id);
      this.metrics.commands.inc({ source: 'amqp', outcome: created ? 'accepted' : 'repeated' });
      return { created, order: view };
    } catch (error) {
      if (error instanceof TopupOrderRefused) throw new CommandRefused(error.reason);
      throw error;
    }
  }

  protected count(outcome: 'dead-lettered' | 'unavailable'): void {
    this.metrics.commands.inc({ source: 'amqp', outcome });
  }
}
