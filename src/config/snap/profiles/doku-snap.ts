import type { SnapProfileData } from '../snap.profile-shape.js';

/**
 * DOKU-style SNAP (family B). Source: SNAP.md (DOKU, BRI, BCA row); DOKU's SNAP signature pages
 * (developers.doku.com: symmetric signature for notifications, asymmetric for Get Token B2B) and
 * PTNUSASATUINTIARTHA-DOKU/doku-nodejs-library: the provider first gets a token FROM THE MERCHANT
 * at `POST …/v1.0/access-token/b2b` (SHA256withRSA over `clientId|X-TIMESTAMP`, token lives
 * 900 s), then signs `POST:path:token:bodyHash:X-TIMESTAMP` with HMAC-SHA512 (client secret).
 */
export const DOKU_SNAP: SnapProfileData = {
  name: 'doku-snap',
  displayName: 'DOKU SNAP',
  source:
    'SNAP.md (family B); developers.doku.com SNAP signature pages; PTNUSASATUINTIARTHA-DOKU/doku-nodejs-library',
  family: 'hmac-token',
  services: { 'va-payment': {}, 'va-notify-intrabank': {}, 'debit-notify': {} },
  tokenTtlSeconds: 900,
};
