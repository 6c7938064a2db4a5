import type { EventStatus } from '../../events/normalized-transaction.js';

/** What a SNAP profile is: the vocabulary the shipped profiles (./profiles) and the accounts file are written in. */

/** The four signature families seen in providers' SDKs (SNAP.md). */
export const SNAP_FAMILIES = ['rsa-clientkey', 'hmac-token', 'rsa-body', 'hmac-notifyurl'] as const;
export type SnapFamily = (typeof SNAP_FAMILIES)[number];

/** SNAP notification services the gateway receives: path under the account and service code. */
export const SNAP_SERVICES = {
  'va-payment': { path: '/v1.0/transfer-va/payment', code: '25', impliedStatus: 'succeeded' },
  'va-notify-intrabank': {
    path: '/v1.0/transfer-va/notify-payment-intrabank',
    code: '34',
    impliedStatus: 'succeeded',
  },
  'debit-notify': { path: '/v1.0/debit/notify', code: '56', impliedStatus: null },
  'qr-mpm-notify': { path: '/v1.0/qr/qr-mpm-notify', code: '52', impliedStatus: null },
} as const satisfies Record<
  string,
  { path: string; code: string; impliedStatus: EventStatus | null }
>;
export type SnapServiceName = keyof typeof SNAP_SERVICES;
export const SNAP_SERVICE_NAMES = Object.keys(SNAP_SERVICES) as SnapServiceName[];

/** B2B access token (family B: the merchant, i.e. the gateway, issues it): service code 73. */
export const SNAP_ACCESS_TOKEN = { path: '/v1.0/access-token/b2b', code: '73' } as const;

export interface SnapServiceProfile {
  /** Success `responseCode` of the acknowledgement; default `200` + service code + `00`. */
  ackCode?: string;
  /** Default `Successful`. */
  ackMessage?: string;
  /** The path (family D: the URL) the provider signs for this service, when not prefix + path. */
  signedPath?: string;
}

export interface SnapStatusApiProfile {
  /** B2B access token request (merchant's RSA signature of `clientKey|X-TIMESTAMP`). */
  tokenPath: string;
  /** VA status inquiry. */
  statusPath: string;
  /** The path the provider expects in the inquiry's signature; default statusPath. */
  signedStatusPath?: string;
  /** `responseCode` of a successful inquiry. */
  successCode: string;
  /** latestTransactionStatus (or the profile's status field) code → normalized status. */
  statusMap: Record<string, EventStatus>;
}

export interface SnapProfile {
  name: string;
  displayName: string;
  /** Where the facts of this profile come from (documentation, SDK). */
  source: string;
  family: SnapFamily;
  /**
   * Prepended to the service path to give the path the provider signs (families B, C) or the URL
   * (family D): the provider's view of the URL, not the gateway's behind an ingress prefix.
   */
  signedPathPrefix: string;
  services: Partial<Record<SnapServiceName, SnapServiceProfile>>;
  /** Body fields holding the provider's status code, first present wins. */
  statusFields: string[];
  /** Status code → normalized status; a code not listed is `pending` with a warning. */
  statusMap: Record<string, EventStatus>;
  /** X-TIMESTAMP further than this from the gateway's clock is refused. */
  skewSeconds: number;
  /** Family B: lifetime of the access tokens the gateway issues. */
  tokenTtlSeconds: number;
  /** Family A (body not signed): the status API whose answer is the event. */
  statusApi: SnapStatusApiProfile | null;
}

/** A profile as written (shipped file or accounts file): defaults fill what it leaves out. */
export type SnapProfileData = Pick<SnapProfile, 'name' | 'displayName' | 'source' | 'family'> &
  Partial<Omit<SnapProfile, 'name' | 'displayName' | 'source' | 'family'>>;
