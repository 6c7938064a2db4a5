import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One admin API request: who (key fingerprint), what, on which target, and how it ended. */
@Entity({ name: 'admin_audit' })
@Index('admin_audit_at', ['at'])
export class AdminAuditEntry {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: Date })
  at!: Date;

  /** `callbacks.list`, `callbacks.show`, `events.republish`, `callbacks.renormalize`. */
  @Column({ type: 'varchar', length: 64 })
  action!: string;

  /** The callback id or event id acted on; null for searches. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  target!: string | null;

  /** First 8 hex digits of SHA-256(admin key): which key, never the key. */
  @Column({ name: 'key_fingerprint', type: 'varchar', length: 8 })
  keyFingerprint!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  /** JSON: method, path, query / parameters, response status and a short result. */
  @Column({ type: 'text' })
  details!: string;
}
