import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A project whose budgets must be derived again (reports.md 6.1): written by
 * the triggers of migrations/1763801810000-BudgetDerivation.ts in the
 * transaction that changes an allocation, a quota, a bundle or a resource;
 * deleted by the budget loop once it has derived the budgets from the `seq`
 * it read (a newer mark keeps the row).
 */
@Entity('report_budget_recompute')
@Index('report_budget_recompute_requested_idx', ['requestedAt'])
export class ReportBudgetRecompute {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_budget_recompute_pk' })
  projectId: string;

  /** From report_budget_recompute_seq: new with every mark. */
  @Column('bigint')
  seq: string;

  @Column('timestamptz', { name: 'requested_at', default: () => 'now()' })
  requestedAt: Date;
}
