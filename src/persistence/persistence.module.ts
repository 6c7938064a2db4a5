import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { dataSourceOptions } from './database.options.js';
import { runMigrationsGuarded } from './schema-migrations.js';
import { SqlDialect } from './sql-dialect.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [GATEWAY_CONFIG],
      useFactory: async (config: GatewayConfig) => {
        // DATABASE_MIGRATIONS_RUN: applied before the pool serves, under the advisory lock (replicas
        // starting together wait for each other instead of racing).
        if (config.database.runMigrations) await runMigrationsGuarded(config.database);
        return {
          ...dataSourceOptions(config.database),
          migrationsRun: false,
          // Fail start-up fast with the real error rather than retrying silently.
          retryAttempts: 0,
        };
      },
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
  ],
  exports: [SqlDialect],
})
export class PersistenceModule {}
