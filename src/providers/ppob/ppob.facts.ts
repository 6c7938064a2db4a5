import type { EventStatus } from '../../events/normalized-transaction.js';

// Source: PROVIDERS.md (PPOB section), from the server's API document (seed 003, section 2 "Transaction Report").

/**
 * `status`, compared in lower case (Pending / Success / Failed). `waiting` is the request API's
 * initial state (seed 003 §1.2), not listed for reports; mapped to pending rather than refused.
 */
export const PPOB_STATUS: Record<string, EventStatus> = {
  pending: 'pending',
  waiting: 'pending',
  success: 'succeeded',
  failed: 'failed',
};

/** The document names no response format; HTTP 200 with a short text body. */
export const PPOB_ACK = { status: 200, contentType: 'text/plain', body: 'OK' };
