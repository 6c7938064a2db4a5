import { InitialSchema1763700000000 } from './1763700000000-initial-schema.js';
import { AdminAuditAndReference1764000000000 } from './1764000000000-admin-audit-and-reference.js';
import { TransactionStates1765000000000 } from './1765000000000-transaction-states.js';
import { Verifications1765200000000 } from './1765200000000-verifications.js';
import { CredentialKey1765300000000 } from './1765300000000-credential-key.js';
import { TopupOrders1765400000000 } from './1765400000000-topup-orders.js';
import { IndexesForScale1765500000000 } from './1765500000000-indexes-for-scale.js';
import { DedupByEventId1765600000000 } from './1765600000000-dedup-by-event-id.js';
import { AdminSearchIndexes1765700000000 } from './1765700000000-admin-search-indexes.js';
import { InquirySchedule1765800000000 } from './1765800000000-inquiry-schedule.js';
import { OrderedVersions1765900000000 } from './1765900000000-ordered-versions.js';
import { ExpectedPayments1766000000000 } from './1766000000000-expected-payments.js';
import { SnapExternalIds1766100000000 } from './1766100000000-snap-external-ids.js';

/** Every migration, in order. Listed explicitly so the same list works from src and dist. */
export const MIGRATIONS = [
  InitialSchema1763700000000,
  AdminAuditAndReference1764000000000,
  TransactionStates1765000000000,
  Verifications1765200000000,
  CredentialKey1765300000000,
  TopupOrders1765400000000,
  IndexesForScale1765500000000,
  DedupByEventId1765600000000,
  AdminSearchIndexes1765700000000,
  InquirySchedule1765800000000,
  OrderedVersions1765900000000,
  ExpectedPayments1766000000000,
  SnapExternalIds1766100000000,
];
