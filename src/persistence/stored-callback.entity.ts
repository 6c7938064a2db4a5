import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type CallbackOutcome =
  | 'accepted'
  | 'superseded'
  | 'quarantined'
  | 'duplicate'
  /** Hints of verified providers (docs/verification.md): waiting, refuted, held. */
  | 'verifying'
  | 'contradicted'
  | 'conflicted'
  | 'unconfirmed'
  | 'rejected_auth'
  | 'rejected_address'
  | 'invalid';

/**
 * One callback as it arrived: the raw request plus what the gateway concluded about it. Accepted
 * (and superseded, verifying, …) callbacks carry the de-duplication key (provider, account,
 * transaction_key, status, transition_key) and its deterministic event id (eventIdFor), which is
 * unique: one index on the id decides duplicates.
 */
@Entity({ name: 'callbacks' })
@Index('callbacks_event_id', ['eventId'], { unique: true })
@Index('callbacks_received_at', ['receivedAt'])
@Index('callbacks_rejected_received_at', ['receivedAt'], {
  where: "outcome NOT IN ('accepted', 'superseded', 'quarantined')",
})
@Index('callbacks_provider_status_received_at', ['provider', 'status', 'receivedAt'])
@Index('callbacks_provider_received_at', ['provider', 'receivedAt'])
@Index('callbacks_outcome_not_accepted', ['outcome', 'receivedAt'], {
  where: "outcome <> 'accepted'",
})
@Index('callbacks_status_received_at', ['status', 'receivedAt'])
export class StoredCallback {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  provider!: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  account!: string | null;

  @Column({ name: 'transaction_key', type: 'varchar', length: 191, nullable: true })
  @Index('callbacks_transaction_key')
  transactionKey!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  status!: string | null;

  /** The transition discriminator: the canonical refunded total of a `refunded`, else ''. */
  @Column({ name: 'transition_key', type: 'varchar', length: 64, default: '' })
  transitionKey!: string;

  /** Quarantined callbacks: JSON `{ errors, fields }` — why validation failed, and the verified fields. */
  @Column({ type: 'text', nullable: true })
  quarantine!: string | null;

  /** The merchant's order reference (the event subject); null for rejected attempts. */
  @Column({ name: 'merchant_reference', type: 'text', nullable: true })
  @Index('callbacks_merchant_reference')
  merchantReference!: string | null;

  /** Label (or position) of the account's key that verified it; null for rejected attempts. */
  @Column({ name: 'credential_key', type: 'varchar', length: 64, nullable: true })
  credentialKey!: string | null;

  @Column({ name: 'event_id', type: 'varchar', length: 36, nullable: true })
  eventId!: string | null;

  @Column({ type: 'varchar', length: 24 })
  outcome!: CallbackOutcome;

  @Column({ name: 'source_ip', type: 'varchar', length: 64 })
  sourceIp!: string;

  @Column({ type: 'varchar', length: 8 })
  method!: string;

  @Column({ type: 'varchar', length: 255 })
  path!: string;

  /** JSON object of the request headers that matter (content type, user agent, signatures, forwarding). */
  @Column({ type: 'text' })
  headers!: string;

  @Column({ name: 'raw_body', type: 'text' })
  rawBody!: string;

  /** `utf8` when the body is text, `base64` when it was not valid UTF-8. */
  @Column({ name: 'raw_body_encoding', type: 'varchar', length: 8 })
  rawBodyEncoding!: 'utf8' | 'base64';

  /** What proved the callback authentic (or why it was refused). */
  @Column({ type: 'text' })
  verification!: string;

  @Column({ name: 'received_at', type: Date })
  receivedAt!: Date;
}
