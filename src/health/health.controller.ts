import { Controller, Get, HttpException, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { BrokerStatus } from '../messaging/broker-status.js';
import { schemaProblem } from '../persistence/schema-migrations.js';
import { SqlDialect } from '../persistence/sql-dialect.js';

/**
 * Terminus's 503 carries the failing indicators in its response object; the gateway's one error
 * shape would reduce it to "Service Unavailable", so the message and `errors` name them.
 */
function notReady(error: unknown): unknown {
  if (!(error instanceof HttpException) || error.getStatus() !== 503) return error;
  const response = error.getResponse() as { error?: Record<string, { message?: string }> };
  const failing = Object.entries(response.error ?? {}).map(
    ([component, detail]) => `${component}: ${detail.message ?? 'down'}`,
  );
  if (failing.length === 0) return error;
  return new ServiceUnavailableException({
    message: `Not ready: ${failing.join('; ')}`,
    errors: failing,
  });
}

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly broker: BrokerStatus,
    private readonly sql: SqlDialect,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      "Readiness: a callback can be stored now (the broker's state is reported, never a 503)",
  })
  async ready() {
    try {
      return await this.health.check([
        () => this.database.pingCheck('database', { timeout: 2_000 }),
        // Not at this build's schema (unmigrated, or an older release's): every callback would 503.
        async () => {
          const schema = this.indicators.check('schema');
          const problem = await schemaProblem((sql, params) => this.sql.query(sql, params)).catch(
            (error: unknown) => `cannot read the schema version: ${(error as Error).message}`,
          );
          return problem === null ? schema.up() : schema.down(problem);
        },
        // Never a reason for 503: callbacks are stored and their events wait in the outbox.
        // Each broker component's state and every declaration's outcome are in the body.
        () => {
          const broker = this.indicators.check('broker');
          const report = this.broker.report();
          return this.broker.healthy() ? broker.up(report) : broker.degraded(report);
        },
      ]);
    } catch (error) {
      throw notReady(error);
    }
  }
}
