import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { CallbackStore } from './callback-store.js';
import { dataSourceOptions } from './database.options.js';
import { OutboxRepository } from './outbox.repository.js';
import { SqlDialect } from './sql-dialect.js';
import { TransactionStates } from '../transactions/transaction-states.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig) => ({
        ...dataSourceOptions(config.database),
        // Fail start-up fast with the real error rather than retrying silently.
        retryAttempts: 0,
      }),
    }),
  ],
  providers: [
    {
      provide: SqlDialect,
      inject: [DataSource, GATEWAY_CONFIG],
      useFactory: (dataSource: DataSource, config: GatewayConfig) =>
        new SqlDialect(
          dataSource,
          config.database.type !== 'postgres' || config.database.preparedStatements !== false,
        ),
    },
    CallbackStore,
    OutboxRepository,
    TransactionStates,
  ],
  exports: [CallbackStore, OutboxRepository, SqlDialect, TransactionStates],
})
export class PersistenceModule {}
