import { BadRequestException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  type ValidationArguments,
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

interface CompiledRule {
  property: string;
  /** @IsOptional / @ValidateIf: the property's rules run only when every condition holds. */
  conditions: ((object: object, value: unknown) => boolean)[];
  checks: {
    constraints: unknown[];
    validateIf?: (object: object, value: unknown) => boolean;
    /** The verdict without calling the validator, or undefined when only the validator knows. */
    quick?: (value: unknown) => boolean | undefined;
    validators: { validate(value: unknown, args: ValidationArguments): unknown }[];
  }[];
}

/**
 * The verdicts of class-validator's own `IsString`, `Matches` and `MaxLength`, worked out without
 * its argument object, the validator library's string assertion and a match array per field (the
 * largest share of validating a callback, issue 28): the same answer for every value — a test
 * holds each against the validator it stands for. `MaxLength` answers only for a string no
 * longer than the limit in UTF-16 units (its own count, which discounts surrogate pairs and
 * variation selectors, can only be smaller); any longer one still goes to the validator.
 */
export function quickCheck(
  name: string | undefined,
  constraints: unknown[],
): ((value: unknown) => boolean | undefined) | undefined {
  switch (name) {
    case 'isString':
      return (value: unknown) => typeof value === 'string' || value instanceof String;
    case 'matches': {
      const [pattern, modifiers] = constraints;
      // A non-global, non-sticky RegExp: `str.match(re)` and `re.test(str)` agree, lastIndex unused.
      if (!(pattern instanceof RegExp) || modifiers !== undefined) return undefined;
      if (pattern.global || pattern.sticky) return undefined;
      return (value: unknown) => typeof value === 'string' && pattern.test(value);
    }
    case 'maxLength': {
      const [max] = constraints;
      if (typeof max !== 'number') return undefined;
      return (value: unknown) =>
        typeof value !== 'string' ? false : value.length <= max ? true : undefined;
    }
    default:
      return undefined;
  }
}

interface CompiledDto {
  rules: CompiledRule[];
  optional: Set<string>;
}

const compiledByClass = new WeakMap<object, CompiledDto | null>();

/**
 * The DTO's class-validator rules as a flat list, read once from the same metadata validateSync
 * reads — or null when a rule needs what only class-validator does (nested objects, `each`, async,
 * groups, IS_DEFINED): then every check takes the full path.
 */
function compiled(dto: new () => object): CompiledDto | null {
  if (compiledByClass.has(dto)) return compiledByClass.get(dto)!;
  const storage = getMetadataStorage();
  // The same selection validateSync makes with default options (no groups, `always` false).
  const metadatas = storage.getTargetValidationMetadatas(dto, '', false, false, undefined);
  const byProperty = new Map<string, CompiledRule>();
  let supported = metadatas.length > 0;
  for (const metadata of metadatas) {
    let rule = byProperty.get(metadata.propertyName);
    if (!rule) {
      rule = { property: metadata.propertyName, conditions: [], checks: [] };
      byProperty.set(metadata.propertyName, rule);
    }
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      rule.conditions.push(metadata.constraints[0] as CompiledRule['conditions'][number]);
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION && !metadata.each) {
      const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls);
      if (constraints.length === 0 || constraints.some((c) => c.async)) supported = false;
      rule.checks.push({
        constraints: metadata.constraints,
        validateIf: metadata.validateIf,
        quick:
          constraints.length === 1 ? quickCheck(metadata.name, metadata.constraints) : undefined,
        validators: constraints.map(
          (c) => c.instance as CompiledRule['checks'][number]['validators'][number],
        ),
      });
    } else {
      supported = false;
    }
  }
  const result = supported
    ? { rules: [...byProperty.values()], optional: optionalProperties(dto) }
    : null;
  compiledByClass.set(dto, result);
  return result;
}

/**
 * The fast path: the fields as a DTO instance when every rule passes, else null (the caller then
 * runs class-validator for the messages). Runs the very validators class-validator would, on a
 * shallow copy, without class-transformer and without building a ValidationError per property.
 */
function passingInstance<Dto extends object>(
  dto: new () => Dto,
  rules: CompiledDto,
  fields: Record<string, unknown>,
): Dto | null {
  // The fields copied, empty optional ones left out (as Object.assign then `delete` would leave
  // them, without making the instance a slow dictionary-mode object: issue 28).
  const instance = new dto() as Dto & Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === '' && rules.optional.has(key)) continue;
    (instance as Record<string, unknown>)[key] = value;
  }
  rules: for (const rule of rules.rules) {
    const value = instance[rule.property];
    for (const condition of rule.conditions) if (!condition(instance, value)) continue rules;
    for (const check of rule.checks) {
      if (check.validateIf && !check.validateIf(instance, value)) continue;
      const verdict = check.quick?.(value);
      if (verdict === false) return null;
      if (verdict === true) continue;
      const args: ValidationArguments = {
        targetName: dto.name,
        property: rule.property,
        object: instance,
        value,
        constraints: check.constraints,
      };
      for (const validator of check.validators)
        if (validator.validate(value, args) !== true) return null;
    }
  }
  return instance;
}

/**
 * True when the fields hold only strings, numbers, booleans and null (a flat decoded form or JSON)
 * under ordinary names: a shallow copy of them is then all class-transformer would build.
 */
function isFlat(fields: Record<string, unknown>): boolean {
  if (Object.getPrototypeOf(fields) !== Object.prototype && Object.getPrototypeOf(fields) !== null)
    return false;
  if (Object.hasOwn(fields, '__proto__')) return false;
  for (const key in fields) {
    const value = fields[key];
    if (value !== null && typeof value === 'object') return false;
  }
  return true;
}

/**
 * The fast path alone, for tests: the instance it accepts, null when it refuses (the full path
 * decides), undefined when it does not apply to this DTO or these fields.
 */
export function fastValidated<Dto extends object>(
  dto: new () => Dto,
  fields: Record<string, unknown>,
): Dto | null | undefined {
  const rules = compiled(dto);
  return rules && isFlat(fields) ? passingInstance(dto, rules, fields) : undefined;
}

/**
 * Validates decoded callback fields against a provider DTO. Unknown fields are allowed (providers
 * add fields without notice), empty optional ones are absent; a failure is a 400 that lists every
 * field problem.
 *
 * Flat fields of a DTO whose rules compile (every provider's but MCPayment's nested one) are
 * checked by running the DTO's own validators directly; only a failure — or anything else — goes
 * through class-transformer and class-validator, which also word the messages.
 */
export function validateFields<Dto extends object>(
  dto: new () => Dto,
  fields: Record<string, unknown>,
  what: string,
): Dto {
  const rules = compiled(dto);
  if (rules && isFlat(fields)) {
    const instance = passingInstance(dto, rules, fields);
    if (instance) return instance;
  }
  const { instance, problems } = fullyValidated(dto, fields);
  if (problems.length > 0) {
    throw new BadRequestException({
      message: `Invalid ${what}: ${problems.join('; ')}`,
      errors: problems,
    });
  }
  return instance;
}

/** class-transformer and class-validator: the instance and every field problem, worded. */
export function fullyValidated<Dto extends object>(
  dto: new () => Dto,
  fields: Record<string, unknown>,
): { instance: Dto; problems: string[] } {
  const instance = plainToInstance(dto, fields, { enableImplicitConversion: false });
  dropEmptyOptionals(instance);
  // No provider DTO has an async rule: the synchronous validator skips a promise per rule.
  const errors = validateSync(instance, { whitelist: false, forbidUnknownValues: false });
  return { instance, problems: validationMessages(errors) };
}
