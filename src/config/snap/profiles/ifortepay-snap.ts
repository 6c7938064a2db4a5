import type { SnapProfileData } from '../snap.profile-shape.js';

/**
 * iFortepay (MCPayment) SNAP (family D). Source: SNAP.md (iFortepay row), developer.ifortepay.id:
 * X-SIGNATURE = HMAC-SHA512(client secret, notifyUrl + ":" + X-VERSION + ":" + bodyHash + ":" +
 * X-TIMESTAMP). The notify URL is the one registered with iFortepay: set `signedPathPrefix` (or a
 * service's `signedPath`) to it in the account.
 */
export const IFORTEPAY_SNAP: SnapProfileData = {
  name: 'ifortepay-snap',
  displayName: 'iFortepay SNAP',
  source: 'SNAP.md (family D, iFortepay); developer.ifortepay.id (SNAP notification signature)',
  family: 'hmac-notifyurl',
  services: { 'va-payment': {}, 'qr-mpm-notify': {}, 'debit-notify': {} },
};
