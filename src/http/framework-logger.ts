import type { LoggerService } from '@nestjs/common';

/**
 * Nest's start-up chatter: a line per module initialised and per route mapped (≈40 lines that
 * say nothing an operator acts on). At info level it is dropped to debug; LOG_LEVEL=debug shows it.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'NestMicroservice',
]);

function contextOf(params: unknown[]): unknown {
  return params.at(-1);
}

/** The application logger with the framework's start-up lines moved from info to debug. */
export class QuietFrameworkLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = contextOf(params);
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) {
      this.inner.debug?.(message, ...params);
      return;
    }
    this.inner.log(message, ...params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.inner.error(message, ...params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    (this.inner.fatal ?? this.inner.error).call(this.inner, message, ...params);
  }
}

/** One line a component logged while the application was being created. */
export interface StartupLogEntry {
  level: 'error' | 'warn' | 'fatal';
  context: unknown;
  msg: string;
}

/**
 * The logger Nest uses until the application's own logger exists: nothing is printed, warnings
 * and errors are kept. If creation fails the caller decides what to show (main.ts turns a known
 * cause into one line); if it succeeds, Nest replays its buffered lines to the real logger.
 */
export class StartupLogCollector implements LoggerService {
  readonly entries: StartupLogEntry[] = [];

  private keep(level: StartupLogEntry['level'], message: unknown, params: unknown[]): void {
    const context = params.at(-1);
    this.entries.push({ level, context, msg: String(message) });
  }

  log(): void {}

  error(message: unknown, ...params: unknown[]): void {
    this.keep('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.keep('warn', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.keep('fatal', message, params);
  }
}

/** A start-up error with what was logged before it (see StartupLogCollector). */
export class GatewayStartupError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly log: StartupLogEntry[],
  ) {
    super(`Gateway failed to start: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'GatewayStartupError';
  }
}
