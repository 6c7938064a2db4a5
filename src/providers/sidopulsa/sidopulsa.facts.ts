import type { EventStatus } from '../../events/normalized-transaction.js';

// Source: PROVIDERS.md (Sidopulsa section), from Sidopulsa's "Callback/Report" page (seed 002).

/** `statuscode`: 1 sukses, 2 gagal (the table; the page's "success" example wrongly shows 2). */
export const SIDOPULSA_STATUS: Record<string, EventStatus> = { '1': 'succeeded', '2': 'failed' };

/** Sidopulsa wants HTTP 200 with a short text body; it publishes no retry policy. */
export const SIDOPULSA_ACK = { status: 200, contentType: 'text/plain', body: 'OK' };

/** Sidopulsa's H2H request API (`GET /h2h/api/trx`): where orders go. */
export const SIDOPULSA_ORDER_PATH = '/h2h/api/trx';
