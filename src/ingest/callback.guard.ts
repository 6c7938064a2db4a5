import { type CanActivate, type ExecutionContext, NotFoundException } from '@nestjs/common';
import type { CallbackProvider } from './callback-provider.js';
import { type GatewayRequest, inboundFrom } from './gateway-request.js';

/**
 * Base of every provider's guard: the provider's own `authenticate` decides; this only turns the
 * Express request into an InboundCallback and keeps the result for the ingest pipeline.
 */
export abstract class CallbackGuard implements CanActivate {
  protected abstract readonly provider: CallbackProvider;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<GatewayRequest>();
    const inbound = inboundFrom(req);
    req.callback = { provider: this.provider.name, inbound };
    if (!this.provider.isEnabled()) {
      throw new NotFoundException(
        `${this.provider.displayName} callbacks are not configured on this gateway`,
      );
    }
    req.callback.verified = await this.provider.authenticate(inbound);
    return true;
  }
}
