import assert from 'node:assert/strict';
import { ConfigurationError } from '../../src/config/environment.js';
import { loadConfig } from '../../src/config/gateway-config.js';

/** The problems loadConfig names for `env`; fails the test when the configuration is accepted. */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, String(error));
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}
