import { BadRequestException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';

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
 * add fields without notice); a failure is a 400 that lists every field problem.
 */
export function validateFields<Dto extends object>(
  dto: new () => Dto,
  fields: Record<string, unknown>,
  what: string,
): Dto {
  const instance = plainToInstance(dto, fields, { enableImplicitConversion: false });
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
