import { Injectable } from '@nestjs/common';
import { CallbackGuard } from '../../ingest/callback.guard.js';
import { NicepayProvider } from './nicepay.provider.js';

/** Source-address allowlist + merchantToken (see NicepayProvider.authenticate). */
@Injectable()
export class NicepayGuard extends CallbackGuard {
  constructor(protected readonly provider: NicepayProvider) {
    super();
  }
}
