import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An event waiting to be (or already) published. Written in the same transaction as its
 * callback; marked published only after the broker confirmed it.
 */
@Entity({ name: 'outbox' })
@Index('outbox_unpublished', ['createdAt'], { where: 'published_at IS NULL' })
@Index('outbox_unpublished_callback', ['callbackId'], { where: 'published_at IS NULL' })
export class OutboxEvent {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 36 })
  eventId!: string;

  /** The stored callback the event came from; null for a state observed otherwise (e.g. an inquiry). */
  @Column({ name: 'callback_id', type: 'varchar', length: 36, nullable: true })
  callbackId!: string | null;

  @Column({ type: 'varchar', length: 32 })
  provider!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string;

  @Column({ name: 'routing_key', type: 'varchar', length: 128 })
  routingKey!: string;

  /** The CloudEvents JSON body, exactly as it is published. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'published_at', type: Date, nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Which gateway instance holds the row for publishing, and until when. */
  @Column({ name: 'lease_owner', type: 'varchar', length: 128, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', type: Date, nullable: true })
  leaseUntil!: Date | null;
}
