import { Injectable } from '@nestjs/common';

/** A part of the gateway that uses the broker, each on its own connection. */
export type BrokerComponent =
  | 'publisher'
  | 'topup-commands'
  | 'topup-dead-letters'
  | 'expected-payment-commands'
  | 'expected-payment-dead-letters';

/**
 * What became of the last declaration of a queue or exchange the gateway declares:
 * `declared` (as configured), `mismatch` (it exists with another type or arguments and is used
 * as it is), `unavailable` (not declared yet: its node is down or the broker refused it; retried).
 */
export type DeclarationState = 'declared' | 'mismatch' | 'unavailable';

export interface ComponentReport {
  connected: boolean;
  /** Why it is not connected (the last error), null when connected. */
  detail: string | null;
  since: string;
}

export interface DeclarationReport {
  kind: 'queue' | 'exchange';
  state: DeclarationState;
  detail: string | null;
  since: string;
}

/**
 * The broker state of every component, for `/health/ready`'s body and the metrics. Never a reason
 * for the gateway to refuse callbacks: events wait in the outbox while the broker is away.
 */
@Injectable()
export class BrokerStatus {
  private readonly components = new Map<BrokerComponent, ComponentReport>();
  private readonly declarations = new Map<string, DeclarationReport>();

  /** Records a component's state; true when it changed. */
  setComponent(name: BrokerComponent, connected: boolean, detail: string | null = null): boolean {
    const held = this.components.get(name);
    const changed = !held || held.connected !== connected;
    this.components.set(name, {
      connected,
      detail: connected ? null : detail,
      since: changed ? new Date().toISOString() : held.since,
    });
    return changed;
  }

  /** Records the outcome of a declaration; true when its state or detail changed. */
  setDeclaration(
    name: string,
    kind: 'queue' | 'exchange',
    state: DeclarationState,
    detail: string | null = null,
  ): boolean {
    const held = this.declarations.get(name);
    const changed = !held || held.state !== state || held.detail !== detail;
    this.declarations.set(name, {
      kind,
      state,
      detail,
      since: changed ? new Date().toISOString() : held.since,
    });
    return changed;
  }

  componentStates(): ReadonlyMap<BrokerComponent, ComponentReport> {
    return this.components;
  }

  declarationStates(): ReadonlyMap<string, DeclarationReport> {
    return this.declarations;
  }

  /** Every component connected and every declaration as configured. */
  healthy(): boolean {
    return (
      [...this.components.values()].every((c) => c.connected) &&
      [...this.declarations.values()].every((d) => d.state === 'declared')
    );
  }

  /** The body of the broker part of `/health/ready`. */
  report() {
    return {
      connected: [...this.components.values()].every((c) => c.connected),
      components: Object.fromEntries(this.components),
      declarations: Object.fromEntries(this.declarations),
    };
  }
}
