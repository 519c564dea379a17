import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { QuotaResource } from './quota-resource.entity';

/**
 * One holding (quotas.md 5.1), keyed by (holder, source, resource). Counters
 * are bigint, read and written through raw SQL only (quotas.service.ts,
 * commissions.service.ts), always under a row lock.
 */
@Entity('quota_holding')
// The key is unique with NULLS NOT DISTINCT (a project's own holding has a
// null source, 5.1), which TypeORM cannot describe: the migration creates it.
@Index('quota_holding_key_uq', { synchronize: false })
@Index('quota_holding_source_idx', ['source'])
@Check('quota_holding_limit_ck', `"limit" >= 0`)
@Check('quota_holding_usage_ck', `"usage_min" <= "usage_max"`)
export class QuotaHolding {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'quota_holding_pk' })
  id: string;

  /** `user:<uuid>` or `project:<uuid>`. */
  @Column('text')
  holder: string;

  /** `project:<uuid>` for a user holding, null for a project's own holding. */
  @Column('text', { nullable: true })
  source: string | null;

  @Column('text')
  resource: string;

  @ManyToOne(() => QuotaResource, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'resource', referencedColumnName: 'name', foreignKeyConstraintName: 'quota_holding_resource_fk' })
  resourceRef?: QuotaResource;

  @Column('bigint')
  limit: string;

  /** Accepted usage minus pending releases (the low bound). */
  @Column('bigint', { name: 'usage_min', default: 0 })
  usageMin: string;

  /** Accepted usage plus pending imports (the high bound; the wire's `usage`). */
  @Column('bigint', { name: 'usage_max', default: 0 })
  usageMax: string;

  /** Who wrote the limit: null for the admin API, `allocation:<id>` for the allocation link (quotas.md 6). */
  @Column('text', { nullable: true })
  origin: string | null;
}
