import type { SnapProfileData } from '../snap.profile-shape.js';

/**
 * NICEPAY SNAP (family A). Source: SNAP.md (NICEPAY SNAP); the nicepay-dev SDKs (laravel-nicepay,
 * python-nicepay): B2B token `POST …/v1.0/access-token/b2b` signed SHA256withRSA over
 * `clientKey|X-TIMESTAMP` with the merchant's key, business calls HMAC-SHA512 with the client
 * secret; VA status `POST /api/v1.0/transfer-va/status`, success 2002600, latestTransactionStatus
 * 00 paid, 03 pending, 04 expired. NICEPAY signs paths without its `/nicepay` prefix.
 */
export const NICEPAY_SNAP: SnapProfileData = {
  name: 'nicepay-snap',
  displayName: 'NICEPAY SNAP',
  source:
    'SNAP.md (NICEPAY SNAP); nicepay-dev SDKs (laravel-nicepay, python-nicepay): token, VA status, latestTransactionStatus codes',
  family: 'rsa-clientkey',
  services: { 'va-payment': {} },
  statusMap: { '00': 'succeeded', '03': 'pending', '04': 'expired' },
  statusApi: {
    tokenPath: '/api/v1.0/access-token/b2b',
    statusPath: '/api/v1.0/transfer-va/status',
    successCode: '2002600',
    statusMap: { '00': 'succeeded', '03': 'pending', '04': 'expired' },
  },
};
