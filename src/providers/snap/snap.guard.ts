import { Injectable } from '@nestjs/common';
import { CallbackGuard } from '../../ingest/callback.guard.js';
import { SnapProvider } from './snap.provider.js';

/** The account's profile decides the check (see SnapProvider.authenticate). */
@Injectable()
export class SnapGuard extends CallbackGuard {
  constructor(protected readonly provider: SnapProvider) {
    super();
  }
}
