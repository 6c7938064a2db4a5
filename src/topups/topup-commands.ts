import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { validationMessages } from '../ingest/validate-fields.js';
import { TOPUP_REQUESTED } from './topup-names.js';
import { TopupOrderDto } from './topup-order.dto.js';

/** A command the gateway can never take, and why. */
export class MalformedCommand extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A short description of a value for a refusal reason, whatever it holds: never serializes
 * nested values (a 20,000-deep array makes JSON.stringify throw RangeError).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
  }
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

/**
 * Reads a `topup.requested` CloudEvent (structured mode, JSON): the envelope, then `data` against
 * TopupOrderDto with unknown fields refused. Throws MalformedCommand naming every problem.
 */
export function parseTopupCommand(value: unknown): { id: string; order: TopupOrderDto } {
  if (typeof value === 'string') throw new MalformedCommand('body is not JSON');
  if (!isObject(value)) throw new MalformedCommand('body is not a JSON object (a CloudEvent)');
  const problems: string[] = [];
  if (value.specversion !== '1.0') problems.push('specversion must be "1.0"');
  if (typeof value.id !== 'string' || value.id.trim() === '' || value.id.length > 255)
    problems.push('id must be a non-empty string (at most 255 characters)');
  if (typeof value.source !== 'string' || value.source.trim() === '')
    problems.push('source must be a non-empty string');
  if (value.type !== TOPUP_REQUESTED)
    problems.push(`type must be "${TOPUP_REQUESTED}" (got ${describeValue(value.type)})`);
  if (!isObject(value.data)) problems.push('data must be an object');
  if (problems.length > 0)
    throw new MalformedCommand(`not a ${TOPUP_REQUESTED} CloudEvent: ${problems.join('; ')}`);
  return { id: value.id as string, order: validateTopupOrder(value.data) };
}

/** `data` as a TopupOrderDto, or MalformedCommand listing every field problem. */
export function validateTopupOrder(data: unknown): TopupOrderDto {
  if (!isObject(data)) throw new MalformedCommand('the order must be a JSON object');
  const order = plainToInstance(TopupOrderDto, data);
  const errors = validateSync(order, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new MalformedCommand(`invalid data: ${validationMessages(errors).join('; ')}`);
  }
  return order;
}
