import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A record that failed validation or processing (amie-usage.md 4.6, 5.2).
 * `id` is its FailedRecordID. `resource`/`local_record_id` are null when
 * unusable: such a failure has no identity and is only cleared by hand.
 */
@Entity('amie_usage_failed_record')
@Index('amie_usage_failed_record_outstanding_idx', ['site', 'id'], { where: `"state" = 'failed'` })
@Index('amie_usage_failed_record_identity_idx', ['site', 'usageType', 'resource', 'localRecordId'], { where: `"state" = 'failed'` })
@Check('amie_usage_failed_record_state_ck', `"state" IN ('failed', 'cleared')`)
export class UsageFailedRecord {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'amie_usage_failed_record_pk' })
  id: string;

  @Column('text')
  site: string;

  @Column('text', { name: 'usage_type' })
  usageType: string;

  @Column('text', { nullable: true })
  resource: string | null;

  @Column('text', { name: 'local_record_id', nullable: true })
  localRecordId: string | null;

  /** Receipt sequence (see UsageBatch). */
  @Column('bigint')
  seq: string;

  @Column('text')
  error: string;

  /** The failed-record entry of amie-usage.md 4.9 without UsageType, Error and FailedRecordID. */
  @Column('jsonb')
  record: Record<string, unknown>;

  @Column('text', { default: 'failed' })
  state: 'failed' | 'cleared';

  @Column('timestamptz', { name: 'processed_at' })
  processedAt: Date;

  @Column('timestamptz', { name: 'cleared_at', nullable: true })
  clearedAt: Date | null;
}
