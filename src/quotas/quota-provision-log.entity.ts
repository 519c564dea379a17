import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Every accepted or rejected provision (quotas.md 5.9, "provision log"): the
 * service's record of quota-relevant usage. Not exposed through Astakos.
 */
@Entity('quota_provision_log')
@Index('quota_provision_log_resolved_idx', ['resolvedAt'])
@Index('quota_provision_log_holder_idx', ['holder', 'resource'])
@Check('quota_provision_log_action_ck', `"action" IN ('ACCEPT', 'REJECT')`)
export class QuotaProvisionLog {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'quota_provision_log_pk' })
  id: string;

  @Column('bigint')
  serial: string;

  @Column('text', { name: 'client_key' })
  clientKey: string;

  @Column('text')
  name: string;

  @Column('text')
  holder: string;

  @Column('text', { nullable: true })
  source: string | null;

  @Column('text')
  resource: string;

  @Column('bigint')
  quantity: string;

  /** The holding's limit and counters after this step. */
  @Column('bigint')
  limit: string;

  @Column('bigint', { name: 'usage_min' })
  usageMin: string;

  @Column('bigint', { name: 'usage_max' })
  usageMax: string;

  @Column('text')
  action: 'ACCEPT' | 'REJECT';

  @Column('timestamptz', { name: 'issue_time' })
  issueTime: Date;

  @Column('timestamptz', { name: 'resolved_at', default: () => 'now()' })
  resolvedAt: Date;
}
