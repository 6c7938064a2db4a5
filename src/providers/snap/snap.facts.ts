import {
  SNAP_ACCESS_TOKEN,
  SNAP_SERVICES,
  type SnapServiceName,
} from '../../config/snap/snap.profile.js';

// Source: SNAP.md (ASPI's common parts): headers, response codes `HTTP status + service + case`.

export const SNAP_HEADERS = {
  timestamp: 'x-timestamp',
  signature: 'x-signature',
  partnerId: 'x-partner-id',
  externalId: 'x-external-id',
  channelId: 'channel-id',
  clientKey: 'x-client-key',
  version: 'x-version',
} as const;

/** Largest accepted body: a SNAP notification is a few KB of JSON. */
export const SNAP_BODY_LIMIT = '64kb';

/** The service a route path ends with (`/v1.0/transfer-va/payment` → va-payment). */
export function serviceOfPath(path: string): SnapServiceName | null {
  for (const [name, service] of Object.entries(SNAP_SERVICES))
    if (path.endsWith(service.path)) return name as SnapServiceName;
  return null;
}

/** The two-digit service code of a request path (token requests: 73; unknown: 00). */
export function serviceCodeOfPath(path: string): string {
  if (path.endsWith(SNAP_ACCESS_TOKEN.path)) return SNAP_ACCESS_TOKEN.code;
  const service = serviceOfPath(path);
  return service ? SNAP_SERVICES[service].code : '00';
}

/**
 * ASPI response messages by HTTP status and case: 400xx01 invalid field format, 400xx02 missing
 * mandatory field, 401xx00 unauthorized, 409xx00 conflict (duplicate X-EXTERNAL-ID).
 */
export const SNAP_MESSAGES: Record<string, string> = {
  '400.01': 'Invalid Field Format',
  '400.02': 'Invalid Mandatory Field',
  '400.00': 'Bad Request',
  '401.00': 'Unauthorized',
  '403.00': 'Forbidden',
  '404.00': 'Not Found',
  '409.00': 'Conflict',
  '413.00': 'Payload Too Large',
  '415.00': 'Unsupported Media Type',
  '429.00': 'Too Many Requests',
  '503.00': 'Service Unavailable',
  '500.00': 'General Error',
};

/** `{responseCode, responseMessage}` for an HTTP status, service code and case. */
export function snapResponse(status: number, serviceCode: string, caseCode = '00') {
  const known = SNAP_MESSAGES[`${status}.${caseCode}`] ?? SNAP_MESSAGES[`${status}.00`];
  return {
    responseCode: `${status}${serviceCode}${caseCode}`,
    responseMessage: known ?? 'Error',
  };
}

/** X-TIMESTAMP: ISO 8601 with seconds and an explicit offset (`2024-11-20T14:14:15+07:00`). */
export const SNAP_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The default acknowledgement (VA payment, 25); each service answers with its own code. */
export const SNAP_VA_PAYMENT_ACK = {
  status: 200,
  contentType: 'application/json',
  body: '{"responseCode":"2002500","responseMessage":"Successful"}',
};
