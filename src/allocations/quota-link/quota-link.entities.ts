import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { QuotaResource } from '../../quotas/quota-resource.entity';

/**
 * One row of the allocation-to-quota mapping (allocations.md §10, docs/allocations.md §10):
 * an allocation codename (`compute.cores`) in one zone, or in any zone (`zone` = ''),
 * becomes a quota resource, each unit worth `factor` units of it.
 */
@Entity('alloc_quota_mapping')
@Index('alloc_quota_mapping_key_uq', ['codename', 'zone'], { unique: true })
@Check('alloc_quota_mapping_factor_ck', `"factor" >= 1`)
export class AllocQuotaMapping {
  @PrimaryGeneratedColumn('identity', { type: 'integer', generatedIdentity: 'BY DEFAULT', primaryKeyConstraintName: 'alloc_quota_mapping_pk' })
  id: number;

  /** `<service type catalog_name>.<quota_name>`, as in the allocation's embedded `quotas`. */
  @Column('text')
  codename: string;

  /** A zone name; '' means any zone (null on the wire). */
  @Column('text', { default: '' })
  zone: string;

  @Column('text')
  resource: string;

  // Deleting a quota resource drops the mappings to it.
  @ManyToOne(() => QuotaResource, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'resource', referencedColumnName: 'name', foreignKeyConstraintName: 'alloc_quota_mapping_resource_fk' })
  resourceRef?: QuotaResource;

  @Column('bigint', { default: 1 })
  factor: string;
}

/**
 * A recomputation of one project's limits that is owed: written in the same
 * transaction as the allocation change, deleted by the job that did it. `seq`
 * (from alloc_quota_recompute_seq) changes with every new request and names
 * the job, so a request made while an older job runs gets a job of its own.
 */
@Entity('alloc_quota_recompute')
export class AllocQuotaRecompute {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'alloc_quota_recompute_pk' })
  projectId: string;

  @Column('bigint')
  seq: string;

  @Column('timestamptz', { name: 'requested_at', default: () => 'now()' })
  requestedAt: Date;
}

export const QUOTA_LINK_ENTITIES = [AllocQuotaMapping, AllocQuotaRecompute];
