import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { ServerVariables, SERVER_VARIABLES } from './env-server.js';
import { OperatorVariables, OPERATORS_VARIABLES } from './env-operators.js';
import { DatabaseVariables, DATABASE_VARIABLES } from './env-database.js';
import { BrokerVariables, BROKER_VARIABLES } from './env-broker.js';
import { ProviderVariables, PROVIDERS_VARIABLES } from './env-providers.js';
import { VerificationVariables, VERIFICATION_VARIABLES } from './env-verification.js';
import { TopupVariables, TOPUPS_VARIABLES } from './env-topups.js';
import { accountSections } from './account-sections.js';

export { VERIFY_MODES } from './env-rules.js';

/**
 * Every environment variable the gateway reads, with its validation rule, one class a concern
 * (src/config/env-*.ts). `loadConfig` turns a validated environment into the typed
 * `GatewayConfig` the rest of the code uses.
 */
export type EnvironmentVariables = ServerVariables &
  OperatorVariables &
  DatabaseVariables &
  BrokerVariables &
  ProviderVariables &
  VerificationVariables &
  TopupVariables;

const CONCERNS: Array<{ variables: ClassConstructor<object>; names: readonly string[] }> = [
  { variables: ServerVariables, names: SERVER_VARIABLES },
  { variables: OperatorVariables, names: OPERATORS_VARIABLES },
  { variables: DatabaseVariables, names: DATABASE_VARIABLES },
  { variables: BrokerVariables, names: BROKER_VARIABLES },
  { variables: ProviderVariables, names: PROVIDERS_VARIABLES },
  { variables: VerificationVariables, names: VERIFICATION_VARIABLES },
  { variables: TopupVariables, names: TOPUPS_VARIABLES },
];

export const ENVIRONMENT_VARIABLE_NAMES = [
  ...SERVER_VARIABLES,
  ...OPERATORS_VARIABLES,
  ...DATABASE_VARIABLES,
  ...BROKER_VARIABLES,
  ...PROVIDERS_VARIABLES,
  ...VERIFICATION_VARIABLES,
  ...TOPUPS_VARIABLES,
] as const;

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigurationError';
  }
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? message : `${error.property} ${message}`,
    ),
  );
}

/** Validates the raw environment; throws a ConfigurationError naming every bad variable. */
export function validateEnvironment(env: Record<string, string | undefined>): EnvironmentVariables {
  const errors: ValidationError[] = [];
  // Providers' registered account sections bring their variables (config/account-sections.ts).
  const registered = accountSections().flatMap(({ environment }) =>
    environment ? [environment] : [],
  );
  const instances = [...CONCERNS, ...registered].map(({ variables, names }) => {
    const known = Object.fromEntries(names.map((key) => [key, env[key]]));
    const instance = plainToInstance(variables, known);
    errors.push(...validateSync(instance, { skipMissingProperties: false }));
    return instance;
  });
  if (errors.length > 0) throw new ConfigurationError(describe(errors));
  return Object.assign({}, ...instances) as EnvironmentVariables;
}
