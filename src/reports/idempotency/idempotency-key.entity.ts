import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One `Idempotency-Key` of a token (reports.md 1.8): the request it was first
 * used with and, once that call answered, its answer. Kept until
 * `expires_at` (24 hours). migrations/1763801100000-ReportsIdempotency.ts is
 * the truth.
 */
@Entity('report_idempotency_key')
@Check('report_idempotency_key_state_ck', `"state" IN ('pending', 'done')`)
@Index('report_idempotency_key_expires_idx', ['expiresAt'])
export class ReportIdempotencyKey {
  /** The calling token's `name`: keys of different tokens never meet. */
  @PrimaryColumn('text', { name: 'token_name', primaryKeyConstraintName: 'report_idempotency_key_pk' })
  tokenName: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_idempotency_key_pk' })
  key: string;

  @Column('text')
  method: string;

  /** The request's path with its query string, as sent. */
  @Column('text')
  path: string;

  /** sha256 (hex) of the body as a canonical JSON value (sorted keys, no whitespace); absent body = `null`. */
  @Column('text', { name: 'body_hash' })
  bodyHash: string;

  /** `pending` while the first call runs; `done` once its answer is stored. */
  @Column('text')
  state: string;

  /** Which call owns a pending row: a call that finishes after its row was taken over writes nothing. */
  @Column('uuid')
  claim: string;

  @Column('integer', { nullable: true })
  status: number | null;

  /** The answer's body as sent. */
  @Column('text', { nullable: true })
  answer: string | null;

  @Column('text', { name: 'content_type', nullable: true })
  contentType: string | null;

  @Column('text', { nullable: true })
  location: string | null;

  /** When the owning call claimed the key (a pending row older than the lease may be taken over). */
  @Column('timestamptz', { name: 'claimed_at', default: () => 'now()' })
  claimedAt: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;
}
