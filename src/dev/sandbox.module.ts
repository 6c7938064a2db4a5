import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { type RunningSandbox, sandboxProviders, startSandbox } from './sandbox.js';

/**
 * SANDBOX_EMBEDDED=true (development only; refused in production): the provider sandbox runs
 * inside the gateway process on SANDBOX_PORT, sending its callbacks to this gateway, so one
 * command shows a verified event end to end.
 */
@Injectable()
export class EmbeddedSandbox implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Sandbox');
  private running: RunningSandbox | null = null;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  async onModuleInit(): Promise<void> {
    this.running = await startSandbox({
      providers: sandboxProviders(this.config),
      port: this.config.sandbox.port,
      gatewayUrl: `http://127.0.0.1:${this.config.port}`,
      log: (line) => this.logger.debug(line),
    });
    this.logger.warn(
      `Provider sandbox embedded on ${this.running.url} (${this.running.providers.map((p) => p.name).join(', ')}): development only`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.close();
  }
}

@Module({ providers: [EmbeddedSandbox] })
export class SandboxModule {}
