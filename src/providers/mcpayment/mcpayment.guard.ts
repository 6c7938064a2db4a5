import { Injectable } from '@nestjs/common';
import { CallbackGuard } from '../../ingest/callback.guard.js';
import { McpaymentProvider } from './mcpayment.provider.js';

/** mcp-signature header (see McpaymentProvider.authenticate). */
@Injectable()
export class McpaymentGuard extends CallbackGuard {
  constructor(protected readonly provider: McpaymentProvider) {
    super();
  }
}
