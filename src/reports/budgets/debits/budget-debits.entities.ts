import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ReportBudget } from '../budgets.entities';

/**
 * What one AMIE record (`amie:<entity_id>`) or one booked day (`day:<YYYY-MM-DD>`)
 * of a project adds to an earlier budget's `outside_period` (reports.md 6.2:
 * usage after a budget's end and before the next one's start debits nothing
 * and is never dropped silently). `report_budget.outside_period` is the Σ of
 * its rows, moved under the budget's row lock with them.
 * migrations/1763801820000-BudgetDebits.ts is the truth.
 */
@Entity('report_budget_outside')
@Index('report_budget_outside_budget_idx', ['budgetId'])
@Index('report_budget_outside_ref_idx', ['ref'])
export class ReportBudgetOutside {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_budget_outside_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_budget_outside_pk' })
  ref: string;

  @Column('bigint', { name: 'budget_id' })
  budgetId: string;

  @ManyToOne(() => ReportBudget)
  @JoinColumn({ name: 'budget_id', foreignKeyConstraintName: 'report_budget_outside_budget_fk' })
  budget?: ReportBudget;

  /** SU of consumption (a credit counts negative). */
  @Column('numeric', { precision: 30, scale: 6 })
  amount: string;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}
