import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { BrokerStatus } from '../messaging/broker-status.js';
import { CommandDeadLetters } from '../messaging/commands.js';

export {
  REJECTION_REASON_HEADER,
  TRIMMED_HEADER,
  deadLetterHeaders,
} from '../messaging/commands.js';

/**
 * The dead-letter queue for top-up commands the gateway cannot take (malformed, unknown provider,
 * a reference reused for another order): see CommandDeadLetters.
 */
@Injectable()
export class TopupDeadLetters
  extends CommandDeadLetters
  implements OnModuleInit, OnApplicationShutdown
{
  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, status: BrokerStatus) {
    super(config, status, () => ({
      component: 'topup-commands',
      commands: config.topups.commandsQueue,
      deadLetters: config.topups.deadLetterQueue,
    }));
  }

  onModuleInit(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
