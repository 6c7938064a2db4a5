import { EVENT_STATUSES, type EventStatus } from '../../events/normalized-transaction.js';
import { DOKU_SNAP } from './profiles/doku-snap.js';
import { IFORTEPAY_SNAP } from './profiles/ifortepay-snap.js';
import { MIDTRANS_SNAP } from './profiles/midtrans-snap.js';
import { NICEPAY_SNAP } from './profiles/nicepay-snap.js';
import {
  SNAP_FAMILIES,
  SNAP_SERVICES,
  type SnapServiceName,
  SNAP_SERVICE_NAMES,
  type SnapProfile,
  type SnapProfileData,
} from './snap.profile-shape.js';

export {
  SNAP_FAMILIES,
  type SnapFamily,
  SNAP_SERVICES,
  type SnapServiceName,
  SNAP_SERVICE_NAMES,
  SNAP_ACCESS_TOKEN,
  type SnapServiceProfile,
  type SnapStatusApiProfile,
  type SnapProfile,
  type SnapProfileData,
} from './snap.profile-shape.js';

/**
 * A SNAP provider is data, not code: a profile names its signature family, the services it sends,
 * their acknowledgement codes, its status map, the timestamp skew and (where the body is not
 * signed) its status API. Profiles ship in ./profiles (one file each, with the source of its
 * facts); the accounts file selects one by name, overrides any field, or defines a new one.
 */

/** What every profile starts from: SNAP's common parts. */
export const SNAP_PROFILE_DEFAULTS: Omit<
  SnapProfile,
  'name' | 'displayName' | 'source' | 'family'
> = {
  signedPathPrefix: '',
  services: { 'va-payment': {} },
  statusFields: ['latestTransactionStatus', 'paymentFlagStatus'],
  // ASPI's latestTransactionStatus codes: 00 success, 01 initiated, 02 paying, 03 pending,
  // 04 refunded, 05 canceled, 06 failed, 07 not found.
  statusMap: {
    '00': 'succeeded',
    '01': 'pending',
    '02': 'pending',
    '03': 'pending',
    '04': 'refunded',
    '05': 'cancelled',
    '06': 'failed',
  },
  skewSeconds: 300,
  tokenTtlSeconds: 900,
  statusApi: null,
};

/** The profiles that ship with the gateway, by name. */
export const SHIPPED_SNAP_PROFILES: Readonly<Record<string, SnapProfileData>> = {
  [NICEPAY_SNAP.name]: NICEPAY_SNAP,
  [IFORTEPAY_SNAP.name]: IFORTEPAY_SNAP,
  [DOKU_SNAP.name]: DOKU_SNAP,
  [MIDTRANS_SNAP.name]: MIDTRANS_SNAP,
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** `base` with `override` laid over it; objects merge key by key, everything else is replaced. */
export function mergeProfile(base: object, override: object): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] =
      isPlainObject(current) && isPlainObject(value) ? mergeProfile(current, value) : value;
  }
  return merged;
}

const PROFILE_KEYS = new Set([
  'name',
  'displayName',
  'source',
  'family',
  'signedPathPrefix',
  'services',
  'statusFields',
  'statusMap',
  'skewSeconds',
  'tokenTtlSeconds',
  'statusApi',
]);
const SERVICE_KEYS = new Set(['ackCode', 'ackMessage', 'signedPath']);
const STATUS_API_KEYS = new Set([
  'tokenPath',
  'statusPath',
  'signedStatusPath',
  'successCode',
  'statusMap',
]);
const RESPONSE_CODE = /^\d{7}$/;
const PATH = /^\/[\x21-\x7e]*$/;

function unknownKeys(where: string, value: Record<string, unknown>, known: Set<string>): string[] {
  return Object.keys(value)
    .filter((key) => !known.has(key))
    .map((key) => `${where}.${key}: is not a known field (check its spelling)`);
}

function statusMapProblems(where: string, value: unknown): string[] {
  if (!isPlainObject(value)) return [`${where}: must be a mapping of status codes to statuses`];
  return Object.entries(value)
    .filter(([, status]) => !(EVENT_STATUSES as readonly unknown[]).includes(status))
    .map(([code]) => `${where}.${code}: must be one of ${EVENT_STATUSES.join(', ')}`);
}

/**
 * Checks a complete profile (after defaults and overrides): every problem, each naming the field
 * (`where` + path), never a secret (profiles hold none).
 */
export function profileProblems(where: string, data: Record<string, unknown>): string[] {
  const problems = unknownKeys(where, data, PROFILE_KEYS);
  const text = (key: string) => typeof data[key] === 'string' && (data[key] as string).length > 0;
  for (const key of ['name', 'displayName', 'source'])
    if (!text(key)) problems.push(`${where}.${key}: must be a non-empty string`);
  if (!(SNAP_FAMILIES as readonly unknown[]).includes(data.family))
    problems.push(`${where}.family: must be one of ${SNAP_FAMILIES.join(', ')}`);
  if (typeof data.signedPathPrefix !== 'string' || /\s/.test(data.signedPathPrefix))
    problems.push(
      `${where}.signedPathPrefix: must be a path or URL prefix without spaces ('' for none)`,
    );
  if (!isPlainObject(data.services) || Object.keys(data.services).length === 0) {
    problems.push(`${where}.services: must name at least one of ${SNAP_SERVICE_NAMES.join(', ')}`);
  } else {
    for (const [name, service] of Object.entries(data.services)) {
      const at = `${where}.services.${name}`;
      if (!(SNAP_SERVICE_NAMES as string[]).includes(name)) {
        problems.push(`${at}: is not a SNAP service (${SNAP_SERVICE_NAMES.join(', ')})`);
        continue;
      }
      if (service === null || service === undefined) continue;
      if (!isPlainObject(service)) {
        problems.push(`${at}: must be a mapping (ackCode, ackMessage, signedPath) or {}`);
        continue;
      }
      problems.push(...unknownKeys(at, service, SERVICE_KEYS));
      if (service.ackCode !== undefined && !RESPONSE_CODE.test(String(service.ackCode)))
        problems.push(`${at}.ackCode: must be a 7-digit SNAP responseCode (e.g. 2002500)`);
      if (service.ackMessage !== undefined && typeof service.ackMessage !== 'string')
        problems.push(`${at}.ackMessage: must be a string`);
      if (
        service.signedPath !== undefined &&
        (typeof service.signedPath !== 'string' || /\s/.test(service.signedPath))
      )
        problems.push(`${at}.signedPath: must be a path or URL without spaces`);
    }
  }
  if (
    !Array.isArray(data.statusFields) ||
    data.statusFields.length === 0 ||
    !data.statusFields.every((field) => typeof field === 'string' && field.length > 0)
  )
    problems.push(`${where}.statusFields: must be a list of body field names`);
  problems.push(...statusMapProblems(`${where}.statusMap`, data.statusMap));
  for (const key of ['skewSeconds', 'tokenTtlSeconds']) {
    const value = data[key];
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 86_400)
      problems.push(`${where}.${key}: must be a whole number of seconds from 1 to 86400`);
  }
  if (
    data.family === 'hmac-notifyurl' &&
    typeof data.signedPathPrefix === 'string' &&
    !/^https?:\/\/\S+$/.test(data.signedPathPrefix)
  )
    problems.push(
      `${where}.signedPathPrefix: family hmac-notifyurl signs the notify URL registered with the provider: set it to that URL without the service path (e.g. https://merchant.example/snap)`,
    );
  if (data.family === 'rsa-clientkey' && !isPlainObject(data.statusApi))
    problems.push(
      `${where}.statusApi: family rsa-clientkey does not sign the body: a status API (tokenPath, statusPath, successCode, statusMap) is required`,
    );
  if (data.statusApi !== null && data.statusApi !== undefined) {
    const at = `${where}.statusApi`;
    if (!isPlainObject(data.statusApi)) {
      problems.push(`${at}: must be a mapping or null`);
    } else {
      const api = data.statusApi;
      problems.push(...unknownKeys(at, api, STATUS_API_KEYS));
      for (const key of ['tokenPath', 'statusPath'])
        if (typeof api[key] !== 'string' || !PATH.test(api[key] as string))
          problems.push(`${at}.${key}: must be a path starting with /`);
      if (api.signedStatusPath !== undefined && typeof api.signedStatusPath !== 'string')
        problems.push(`${at}.signedStatusPath: must be a path`);
      if (typeof api.successCode !== 'string' || !RESPONSE_CODE.test(api.successCode))
        problems.push(`${at}.successCode: must be a 7-digit SNAP responseCode (e.g. 2002600)`);
      problems.push(...statusMapProblems(`${at}.statusMap`, api.statusMap));
    }
  }
  return problems;
}

/**
 * A shipped or inline profile with the defaults filled in (its own `services` and `statusMap`
 * replace the defaults'), then the account's overrides merged key by key.
 */
export function resolveProfile(
  data: SnapProfileData | Record<string, unknown>,
  override: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const complete = mergeProfile(SNAP_PROFILE_DEFAULTS, data);
  // A profile's own services and status codes are the whole list: a provider that sends no VA
  // payments must not accept them, and a code it never documented stays unknown (pending + alert).
  for (const key of ['services', 'statusMap'] as const)
    if (isPlainObject((data as Record<string, unknown>)[key]))
      complete[key] = (data as Record<string, unknown>)[key];
  return override ? mergeProfile(complete, override) : complete;
}

/** The acknowledgement code and message of a service under a profile. */
export function ackOf(profile: SnapProfile, service: SnapServiceName) {
  const own = profile.services[service] ?? {};
  return {
    responseCode: own.ackCode ?? `200${SNAP_SERVICES[service].code}00`,
    responseMessage: own.ackMessage ?? 'Successful',
  };
}

/** The path (family D: URL) the provider signs for `service`. */
export function signedPathOf(profile: SnapProfile, service: SnapServiceName): string {
  return (
    profile.services[service]?.signedPath ?? profile.signedPathPrefix + SNAP_SERVICES[service].path
  );
}

/** The normalized status of a provider code, or `pending` with a warning for an unknown one. */
export function statusOf(
  map: Record<string, EventStatus>,
  code: string,
  provider: string,
): { status: EventStatus; warning: string | null } {
  if (Object.hasOwn(map, code)) return { status: map[code], warning: null };
  return {
    status: 'pending',
    warning: `${provider} status code ${JSON.stringify(code)} is not in its profile's status map; taken as pending`,
  };
}
