import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { stopTracing } from '../observability/tracing.js';
import { gatewayServers } from './management-port.js';

/**
 * SIGTERM/SIGINT: stop accepting connections, let in-flight callbacks finish (bounded by
 * `timeoutMs`), then close the application — the outbox relay publishes what it holds before the
 * broker connection and the database close. Nest's own shutdown hooks would close the HTTP server
 * last, after the database, which is the wrong order for a gateway.
 */
export function installGracefulShutdown(
  app: NestExpressApplication,
  timeoutMs: number,
  logger: LoggerService,
): void {
  let started = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    logger.log(
      `${signal} received: refusing new connections, draining in-flight callbacks`,
      'Shutdown',
    );
    // The public listener and the management one (when separate) drain together.
    const servers = gatewayServers(app);
    const closed = Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    // Keep-alive connections would hold close() open: drop each one as soon as it is idle.
    const closeIdle = () => servers.forEach((server) => server.closeIdleConnections());
    const sweeper = setInterval(closeIdle, 50);
    closeIdle();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
    );
    if ((await Promise.race([closed, timedOut])) === 'timeout') {
      logger.warn(`In-flight requests still open after ${timeoutMs} ms: closing them`, 'Shutdown');
      servers.forEach((server) => server.closeAllConnections());
    }
    clearInterval(sweeper);
    clearTimeout(timer);
    try {
      await app.close();
      // Spans still buffered (the last publishes) go to the collector.
      await stopTracing().catch(() => undefined);
      logger.log('Shutdown complete', 'Shutdown');
      process.exit(0);
    } catch (error) {
      logger.error(`Shutdown failed: ${(error as Error).message}`, 'Shutdown');
      process.exit(1);
    }
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}
