import { Inject, Injectable } from '@nestjs/common';

export const PROCESSED_EVENTS_LIMIT = Symbol('PROCESSED_EVENTS_LIMIT');

/**
 * The ids of events already handled, so an at-least-once redelivery (same event id) is
 * acknowledged and ignored instead of applied twice.
 *
 * In memory and bounded (oldest ids are forgotten first): enough for an example, NOT for
 * production, where it is lost on restart and not shared between replicas. A real service stores
 * the id in a table with a unique key (`processed_events(event_id PRIMARY KEY)`), inserted in the
 * same database transaction as the order update, and treats a unique-key violation as "duplicate".
 */
@Injectable()
export class ProcessedEvents {
  private readonly ids = new Set<string>();

  constructor(@Inject(PROCESSED_EVENTS_LIMIT) private readonly limit: number) {}

  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }

  /** Records `eventId` as handled; call only after the handling succeeded. */
  remember(eventId: string): void {
    this.ids.add(eventId);
    // A Set iterates in insertion order: the first entries are the oldest.
    for (const oldest of this.ids) {
      if (this.ids.size <= this.limit) break;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
