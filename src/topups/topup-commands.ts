import {
  commandEnvelope,
  describeValue,
  MalformedCommand,
  validateCommandData,
} from '../messaging/commands.js';
import { TOPUP_REQUESTED } from './topup-names.js';
import { TopupOrderDto } from './topup-order.dto.js';

export { describeValue, MalformedCommand };

/**
 * Reads a `topup.requested` CloudEvent (structured mode, JSON): the envelope, then `data` against
 * TopupOrderDto with unknown fields refused. Throws MalformedCommand naming every problem.
 */
export function parseTopupCommand(value: unknown): { id: string; order: TopupOrderDto } {
  const { id, data } = commandEnvelope(value, TOPUP_REQUESTED);
  return { id, order: validateTopupOrder(data) };
}

/** `data` as a TopupOrderDto, or MalformedCommand listing every field problem. */
export function validateTopupOrder(data: unknown): TopupOrderDto {
  return validateCommandData(TopupOrderDto, data, 'order');
}
