import type { GatewayConfig } from '../config/gateway-config.js';

/** A start-up failure worth one log line: what is wrong and how to fix it. */
export interface StartupFailure {
  msg: string;
  hint: string;
  database?: string;
}

function causes(error: unknown): Array<{ code?: unknown; message?: unknown }> {
  const chain: Array<{ code?: unknown; message?: unknown }> = [];
  let current = error;
  while (current && typeof current === 'object' && chain.length < 5) {
    chain.push(current as { code?: unknown; message?: unknown });
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/**
 * Recognises failures a newcomer hits and can fix (a PostgreSQL database that does not exist,
 * a PostgreSQL that does not answer); anything else is null and reported with its stack.
 */
export function startupFailure(error: unknown, config: GatewayConfig): StartupFailure | null {
  if (config.database.type !== 'postgres') return null;
  let url: URL;
  try {
    url = new URL(config.database.url);
  } catch {
    return null;
  }
  const database = decodeURIComponent(url.pathname.slice(1)) || url.username;
  const host = url.hostname;
  const port = url.port || '5432';
  const user = decodeURIComponent(url.username) || 'postgres';
  for (const cause of causes(error)) {
    // 3D000 invalid_catalog_name: PostgreSQL answered, but has no such database.
    if (cause.code === '3D000') {
      return {
        msg: `PostgreSQL database "${database}" does not exist on ${host}:${port}`,
        database,
        hint: `create it (createdb -h ${host} -p ${port} -U ${user} ${database}) or point DATABASE_URL at an existing database`,
      };
    }
    if (cause.code === 'ECONNREFUSED') {
      return {
        msg: `PostgreSQL at ${host}:${port} refused the connection`,
        database,
        hint: 'start PostgreSQL or correct the host and port in DATABASE_URL',
      };
    }
  }
  return null;
}
