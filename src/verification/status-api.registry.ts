import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { ProviderStatusApi } from './status-api.js';

function isStatusApi(instance: unknown): instance is ProviderStatusApi {
  if (instance === null || typeof instance !== 'object') return false;
  const candidate = instance as Partial<ProviderStatusApi>;
  return (
    typeof candidate.provider === 'string' &&
    typeof candidate.inquire === 'function' &&
    typeof candidate.isEnabled === 'function' &&
    typeof candidate.unprovenWithout === 'string'
  );
}

/** Every provider's status API (src/providers/<name>/<name>.status-api.ts), found by discovery. */
@Injectable()
export class StatusApiRegistry {
  private byProvider: Map<string, ProviderStatusApi> | null = null;

  constructor(private readonly discovery: DiscoveryService) {}

  private collect(): Map<string, ProviderStatusApi> {
    const found = new Map<string, ProviderStatusApi>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (isStatusApi(instance) && !found.has(instance.provider))
        found.set(instance.provider, instance);
    }
    return found;
  }

  all(): ProviderStatusApi[] {
    this.byProvider ??= this.collect();
    return [...this.byProvider.values()];
  }

  /** The provider's status API when its verification is on; undefined otherwise. */
  enabled(provider: string): ProviderStatusApi | undefined {
    this.byProvider ??= this.collect();
    const api = this.byProvider.get(provider);
    return api?.isEnabled() ? api : undefined;
  }
}
