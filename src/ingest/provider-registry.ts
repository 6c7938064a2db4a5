import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { CallbackProvider } from './callback-provider.js';

function isCallbackProvider(instance: unknown): instance is CallbackProvider {
  if (instance === null || typeof instance !== 'object') return false;
  const candidate = instance as Partial<CallbackProvider>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.displayName === 'string' &&
    typeof candidate.dto === 'function' &&
    typeof candidate.authenticate === 'function' &&
    typeof candidate.normalize === 'function' &&
    typeof candidate.ack === 'function'
  );
}

/**
 * Every CallbackProvider instance of the application, by `name`, found through Nest's
 * DiscoveryService: shared code (body limits, admin, rejected attempts) never names a provider,
 * and a new provider module is found as it is.
 */
@Injectable()
export class CallbackProviderRegistry implements OnApplicationBootstrap {
  private byName: Map<string, CallbackProvider> | null = null;

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    this.byName = this.collect();
  }

  private collect(): Map<string, CallbackProvider> {
    const found = new Map<string, CallbackProvider>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (isCallbackProvider(instance) && !found.has(instance.name))
        found.set(instance.name, instance);
    }
    return found;
  }

  get(name: string): CallbackProvider | undefined {
    this.byName ??= this.collect();
    return this.byName.get(name);
  }

  names(): string[] {
    this.byName ??= this.collect();
    return [...this.byName.keys()].sort();
  }
}
