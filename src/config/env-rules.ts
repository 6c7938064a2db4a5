/** What the environment's variables are checked with (src/config/env-*.ts, one file a concern). */
import { ValidateBy } from 'class-validator';
import { isAddressList } from '../common/address-allowlist.js';

export const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === ''
    ? undefined
    : /^-?\d+$/.test(String(value))
      ? Number(value)
      : value;
export const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const text = String(value).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  return value;
};
export const emptyToUndefined = ({ value }: { value: unknown }) =>
  value === undefined || String(value).trim() === '' ? undefined : String(value).trim();

export function IsAddressList(): PropertyDecorator {
  return ValidateBy({
    name: 'isAddressList',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isAddressList(value),
      defaultMessage: (args) =>
        `${args?.property} must be a comma list of IP addresses or CIDR ranges, or *`,
    },
  });
}
export const SIZE = /^\d+(b|kb|mb)?$/i;
export const HTTP_URL = /^https?:\/\/[^\s/?#]+[^\s?#]*$/;

/** `<PROVIDER>_VERIFY`: ask the provider's status API before publishing, or not. */
export const VERIFY_MODES = ['inquiry', 'off'];

export function IsHttpUrl(): PropertyDecorator {
  return ValidateBy({
    name: 'isHttpUrl',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search;
        } catch {
          return false;
        }
      },
      defaultMessage: (args) =>
        `${args?.property} must be an http:// or https:// base URL without a query`,
    },
  });
}
