import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The ledger: the current loaded version of each record identity (site,
 * UsageType, Resource, LocalRecordID; amie-usage.md 5.3). `seq` is the receipt
 * sequence of that version; a version is applied only over a lower one.
 */
@Entity('amie_usage_record')
@Index('amie_usage_record_site_processed_idx', ['site', 'processedAt'])
@Index('amie_usage_record_project_idx', ['localProjectId'])
// The reports' btree on (local_project_id, attribution instant), an
// expression index TypeORM cannot describe (migrations/1763800600000-Reports.ts).
@Index('amie_usage_record_attribution_idx', { synchronize: false })
export class UsageRecord {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'amie_usage_record_pk' })
  site: string;

  @PrimaryColumn('text', { name: 'usage_type', primaryKeyConstraintName: 'amie_usage_record_pk' })
  usageType: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'amie_usage_record_pk' })
  resource: string;

  @PrimaryColumn('text', { name: 'local_record_id', primaryKeyConstraintName: 'amie_usage_record_pk' })
  localRecordId: string;

  @Column('bigint')
  seq: string;

  @Column('bigint', { name: 'batch_id' })
  batchId: string;

  @Column('text', { name: 'local_project_id' })
  localProjectId: string;

  @Column('text')
  username: string;

  /** Exact decimal as sent (never a float). */
  @Column('numeric')
  charge: string;

  @Column('text', { name: 'adjustment_type', nullable: true })
  adjustmentType: string | null;

  /** Compute and adjustment StartTime, storage CollectionTime. */
  @Column('timestamptz', { name: 'usage_start', nullable: true })
  usageStart: Date | null;

  /** Compute EndTime, storage CollectionTime. */
  @Column('timestamptz', { name: 'usage_end', nullable: true })
  usageEnd: Date | null;

  /** The record as received (unknown fields included). */
  @Column('jsonb')
  record: Record<string, unknown>;

  @Column('timestamptz', { name: 'processed_at' })
  processedAt: Date;
}
