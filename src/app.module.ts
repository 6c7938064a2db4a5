import { type DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin/admin.module.js';
import { AccountsModule } from './config/accounts-reloader.js';
import { ConsoleModule } from './console/console.module.js';
import { GATEWAY_CONFIG, type GatewayConfig, topupsEnabled } from './config/gateway-config.js';
import { DevModule } from './dev/dev.module.js';
import { HealthModule } from './health/health.module.js';
import { loggerParams } from './http/logging.js';
import { DocsAfterRoutes } from './http/openapi.js';
import { IngestModule } from './ingest/ingest.module.js';
import { MessagingModule } from './messaging/messaging.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { OutboxModule } from './outbox/outbox.module.js';
import { OperatorsModule } from './operators/operator-directory.js';
import { PersistenceModule } from './persistence/persistence.module.js';
import type { ProviderGateway } from './providers/provider-plugin.js';
import { RetentionModule } from './retention/retention.module.js';
import { SandboxModule } from './dev/sandbox.module.js';
import { TopupsModule } from './topups/topups.module.js';
import { TransactionsModule } from './transactions/transactions.module.js';
import { VerificationModule } from './verification/verification.module.js';

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: GATEWAY_CONFIG, useValue: config }],
      exports: [GATEWAY_CONFIG],
    };
  }
}

@Module({})
export class AppModule {
  /** The whole gateway for one validated configuration (tests build several side by side). */
  /** `gateways`: every provider's gateway side, loadProviderGateways() of src/providers/index.ts. */
  static forRoot(config: GatewayConfig, gateways: ProviderGateway[]): DynamicModule {
    return {
      module: AppModule,
      // Mounts the API docs after the routes (createGateway schedules it).
      providers: [DocsAfterRoutes],
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config)),
        PersistenceModule,
        MessagingModule,
        OutboxModule,
        TransactionsModule,
        ObservabilityModule,
        // Who may use the admin API and the console (ADMIN_API_KEY, OPERATORS_FILE, proxy header).
        OperatorsModule,
        IngestModule,
        // Status inquiry after the ack, reconciliation; its admin routes only with ADMIN_API_KEY.
        VerificationModule.forRoot({
          admin: config.admin !== null,
          expectedCommands: config.verification.expected.commandsQueue !== null,
        }),
        HealthModule,
        ...gateways.map((gateway) => gateway.module),
        // ACCOUNTS_FILE re-read on change and SIGHUP: only when the file is configured.
        ...(config.accounts.file ? [AccountsModule] : []),
        // Retention job and rejected-attempt recording: always on.
        RetentionModule,
        // Admin API (/admin/*) and console: only with ADMIN_API_KEY or OPERATORS_FILE, else 404.
        ...(config.admin ? [AdminModule, ConsoleModule] : []),
        // Developer tools (POST /dev/sign/:provider): only when DEV_TOOLS_ENABLED is true.
        ...(config.devTools.enabled ? [DevModule] : []),
        // Provider sandbox in-process (SANDBOX_EMBEDDED=true): development only.
        ...(config.sandbox.embedded ? [SandboxModule] : []),
        // Top-up orders (commands queue, POST /topups): when a provider's request API is set.
        ...(topupsEnabled(config.topups)
          ? [TopupsModule.withClients(gateways.flatMap((gateway) => gateway.orderClient ?? []))]
          : []),
      ],
    };
  }
}
