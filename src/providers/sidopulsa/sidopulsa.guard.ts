import { Injectable } from '@nestjs/common';
import { CallbackGuard } from '../../ingest/callback.guard.js';
import { SidopulsaProvider } from './sidopulsa.provider.js';

/** Source-address allowlist and/or URL token (see authenticateUrlToken). */
@Injectable()
export class SidopulsaGuard extends CallbackGuard {
  constructor(protected readonly provider: SidopulsaProvider) {
    super();
  }
}
