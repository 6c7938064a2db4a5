import { Injectable } from '@nestjs/common';
import { CallbackGuard } from '../../ingest/callback.guard.js';
import { S88payProvider } from './s88pay.provider.js';

/** Decrypts `key` and checks the codes beside it (see S88payProvider.authenticate). */
@Injectable()
export class S88payGuard extends CallbackGuard {
  constructor(protected readonly provider: S88payProvider) {
    super();
  }
}
