import type { GatewayConfig } from '../config/gateway-config.js';
import {
  demoEnvironment,
  localUrl,
  type StartupEnvironment,
} from '../config/startup-environment.js';
import type { CallbackProvider } from '../ingest/callback-provider.js';
import { redactUrl } from '../messaging/broker-topology.js';
import { tracingEnabled } from '../observability/tracing.js';

/** PostgreSQL host, port and database of a URL; never the user or password. */
export function describeStorage(database: GatewayConfig['database']): string {
  if (database.type === 'better-sqlite3') return `SQLite ${database.path}`;
  try {
    const url = new URL(database.url);
    return `PostgreSQL ${url.hostname}:${url.port || '5432'}/${decodeURIComponent(url.pathname.slice(1))}`;
  } catch {
    return 'PostgreSQL (unparsable DATABASE_URL)';
  }
}

/** One warning per setting that is risky where it is (never a secret in the text). */
function riskWarnings(config: GatewayConfig, providers: CallbackProvider[]): string[] {
  const warnings = providers
    .filter((provider) => provider.isEnabled())
    .flatMap((provider) => provider.summary().warnings);
  const everyInterface = config.host === '0.0.0.0' || config.host === '::';
  if (config.devTools.enabled) {
    warnings.push(
      `DEV_TOOLS_ENABLED=true: POST /dev/sign signs callbacks for anyone who can reach ${everyInterface ? 'this port on any interface' : config.host}`,
    );
  }
  if (config.admin && config.admin.apiKey === demoEnvironment()?.ADMIN_API_KEY) {
    warnings.push('ADMIN_API_KEY is the published demo key of .env.example');
  }
  if (config.sandbox.embedded) {
    warnings.push(
      `SANDBOX_EMBEDDED=true: status inquiries are answered by the local sandbox on port ${config.sandbox.port}, not by the providers`,
    );
  }
  if (config.managementPort === null && config.environment === 'production') {
    warnings.push(
      'MANAGEMENT_PORT equals PORT in production: admin API, metrics and docs share the callback port',
    );
  }
  if (
    config.http.docsEnabled &&
    config.environment === 'production' &&
    config.managementPort === null
  ) {
    warnings.push('DOCS_ENABLED=true in production: the API description is public');
  }
  return warnings;
}

/**
 * The block printed once the gateway listens: where it is, what it stores to and publishes to,
 * which providers are on (and why the others are off), and a line per risky setting.
 */
export function startupBanner(
  config: GatewayConfig,
  startup: Pick<StartupEnvironment, 'source' | 'file'>,
  providers: CallbackProvider[],
): string {
  const url = localUrl(config);
  // Admin, metrics and docs: on their own port when MANAGEMENT_PORT separates them.
  const managementUrl =
    config.managementPort === null ? url : localUrl({ ...config, port: config.managementPort });
  const rule = '='.repeat(78);
  const lines = [rule];
  if (startup.source === 'demo') {
    lines.push(
      'DEMO CONFIGURATION: no .env and no provider configured, so the demo values of .env.example are used (local use only)',
    );
  }
  const listening =
    config.host === '0.0.0.0' || config.host === '::'
      ? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port} (every interface)`
      : url;
  lines.push(
    `Payment callback gateway ready (${config.environment})`,
    `  listening   ${listening}`,
    `  management  ${config.managementPort === null ? `same port (MANAGEMENT_PORT ${config.environment === 'production' ? 'equals PORT' : 'unset'}): /admin, /metrics, /docs` : `${managementUrl} (MANAGEMENT_PORT): /admin, /metrics, /docs; callbacks and /health on the port above`}`,
    `  docs        ${config.http.docsEnabled ? `${managementUrl}/docs` : 'off (DOCS_ENABLED=false)'}`,
    `  storage     ${describeStorage(config.database)}`,
    `  traces      ${tracingEnabled() ? `OTLP ${redactUrl(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || '')}` : 'off (OTEL_EXPORTER_OTLP_ENDPOINT unset)'}`,
    `  broker      ${redactUrl(config.amqp.urls.join(','))}, exchange ${config.amqp.exchange}, ${config.amqp.queueType} queues`,
    `  settings    ${startup.source === 'environment' ? 'environment' : `${startup.file} + environment`}`,
    `  admin API   ${config.admin ? `on (/admin, /console): ${[config.admin.apiKey ? 'ADMIN_API_KEY as operator admin' : null, config.admin.operatorsFile ? `operators of ${config.admin.operatorsFile}` : null, config.admin.identityHeader ? `${config.admin.identityHeader} from TRUSTED_PROXIES` : null].filter(Boolean).join(', ')}` : 'off (ADMIN_API_KEY and OPERATORS_FILE unset)'}`,
    `  dev tools   ${config.devTools.enabled ? 'on (/dev/sign)' : 'off'}`,
    '  providers',
  );
  const width = Math.max(...providers.map((provider) => provider.name.length));
  for (const provider of providers) {
    const summary = provider.summary();
    lines.push(
      provider.isEnabled()
        ? `    ${provider.name.padEnd(width)}  enabled   ${summary.authentication}; verification: ${summary.verification}`
        : `    ${provider.name.padEnd(width)}  disabled  (${summary.enableWith} unset; its endpoints answer 404)`,
    );
  }
  for (const warning of riskWarnings(config, providers)) lines.push(`WARNING: ${warning}`);
  lines.push(rule);
  return `${lines.join('\n')}\n`;
}
