import { Injectable } from '@nestjs/common';
import { CallbackGuard } from '../../ingest/callback.guard.js';
import { PpobProvider } from './ppob.provider.js';

/** Source-address allowlist and/or URL token (see authenticateUrlToken). */
@Injectable()
export class PpobGuard extends CallbackGuard {
  constructor(protected readonly provider: PpobProvider) {
    super();
  }
}
