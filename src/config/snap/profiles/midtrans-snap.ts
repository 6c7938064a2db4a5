import type { SnapProfileData } from '../snap.profile-shape.js';

/**
 * Midtrans-style SNAP (family C). Source: SNAP.md (Midtrans, PayerMax row);
 * Midtrans/midtrans-nodejs-client lib/snapBi/snapBi.js (notification verification) and
 * docs.payermax.com SNAP guide: X-SIGNATURE = SHA256withRSA over
 * `POST:path:bodyHash:X-TIMESTAMP` with the provider's private key.
 */
export const MIDTRANS_SNAP: SnapProfileData = {
  name: 'midtrans-snap',
  displayName: 'Midtrans SNAP',
  source:
    'SNAP.md (family C); Midtrans/midtrans-nodejs-client lib/snapBi/snapBi.js; docs.payermax.com SNAP signature guide',
  family: 'rsa-body',
  services: { 'va-payment': {}, 'debit-notify': {}, 'qr-mpm-notify': {} },
};
