import { BadRequestException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  type ValidationError,
  ValidationTypes,
  validateSync,
} from 'class-validator';

const optionalByClass = new WeakMap<object, Set<string>>();

/** The properties a DTO class declares optional (@IsOptional or @ValidateIf). */
function optionalProperties(target: object): Set<string> {
  let names = optionalByClass.get(target);
  if (!names) {
    names = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(target as new () => object, '', true, false)
        .filter((metadata) => metadata.type === ValidationTypes.CONDITIONAL_VALIDATION)
        .map((metadata) => metadata.propertyName),
    );
    optionalByClass.set(target, names);
  }
  return names;
}

/**
 * An empty optional field is an absent one (NICEPAY sends `fee=` when there is no fee): removed
 * from the DTO, at every depth, before validation. The event's `raw` keeps what was sent.
 */
function dropEmptyOptionals(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropEmptyOptionals(item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const optional = optionalProperties(value.constructor);
  const record = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(record)) {
    if (field === '' && optional.has(key)) delete record[key];
    else dropEmptyOptionals(field);
  }
}

export function validationMessages(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      text.startsWith(error.property)
        ? `${path}${text.slice(error.property.length)}`
        : `${path}: ${text}`,
    );
    return [...own, ...validationMessages(error.children ?? [], path)];
  });
}

/**
 * Validates decoded callback fields against a provider DTO. Unknown fields are allowed (providers
 * add fields without notice), empty optional ones are absent; a failure is a 400 that lists every
 * field problem.
 */
export function validateFields<Dto extends object>(
  dto: new () => Dto,
  fields: Record<string, unknown>,
  what: string,
): Dto {
  const instance = plainToInstance(dto, fields, { enableImplicitConversion: false });
  dropEmptyOptionals(instance);
  // No provider DTO has an async rule: the synchronous validator skips a promise per rule.
  const errors = validateSync(instance, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const problems = validationMessages(errors);
    throw new BadRequestException({
      message: `Invalid ${what}: ${problems.join('; ')}`,
      errors: problems,
    });
  }
  return instance;
}
