import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { QuotaHolding } from './quota-holding.entity';

/**
 * A pending commission (quotas.md 4.6, 5.7, 5.8). The serial comes from the
 * sequence `quota_commission_serial_seq` (created by the migration) and is
 * set explicitly on insert; the row is deleted once resolved.
 */
@Entity('quota_commission')
@Index('quota_commission_client_serial_idx', ['clientKey', 'serial'])
export class QuotaCommission {
  @PrimaryColumn('bigint', { primaryKeyConstraintName: 'quota_commission_pk' })
  serial: string;

  /** Name of the issuing credential (5.8). */
  @Column('text', { name: 'client_key' })
  clientKey: string;

  @Column('text', { default: '' })
  name: string;

  @Column('timestamptz', { name: 'issue_time', default: () => 'now()' })
  issueTime: Date;
}

/** One merged provision of a pending commission (5.3). */
@Entity('quota_provision')
@Index('quota_provision_holding_idx', ['holdingId'])
export class QuotaProvision {
  @PrimaryColumn('bigint', { primaryKeyConstraintName: 'quota_provision_pk' })
  serial: string;

  /** Order of first appearance in the request (4.6). */
  @PrimaryColumn('integer', { primaryKeyConstraintName: 'quota_provision_pk' })
  position: number;

  @ManyToOne(() => QuotaCommission, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'serial', referencedColumnName: 'serial', foreignKeyConstraintName: 'quota_provision_commission_fk' })
  commission?: QuotaCommission;

  @Column('bigint', { name: 'holding_id' })
  holdingId: string;

  @ManyToOne(() => QuotaHolding, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'holding_id', referencedColumnName: 'id', foreignKeyConstraintName: 'quota_provision_holding_fk' })
  holding?: QuotaHolding;

  @Column('bigint')
  quantity: string;
}
