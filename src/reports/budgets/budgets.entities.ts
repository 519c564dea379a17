import { Check, Column, Entity, Exclusion, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * The tables of allocation budgets (reports.md §6).
 * migrations/1763801800000-Budgets.ts is the truth. Amounts are SU with 6
 * decimals (`numeric(30,6)`) and travel as strings; ids of budgets, entries
 * and events are bigint sequences, answered as decimal strings.
 */

const SU = { precision: 30, scale: 6 } as const;

/** A project's thresholds and overdraft (6.5); null columns mean the defaults. */
@Entity('report_budget_policy')
@Check('report_budget_policy_overdraft_ck', `"overdraft" IS NULL OR "overdraft" >= 0`)
export class ReportBudgetPolicy {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_budget_policy_pk' })
  projectId: string;

  @Column('integer', { array: true, nullable: true })
  thresholds: number[] | null;

  @Column('numeric', { ...SU, nullable: true })
  overdraft: string | null;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}

/**
 * A budget (6.1), identified by (project, period start); its figures are the
 * balance row of 6.3, changed only under `SELECT … FOR UPDATE` in the
 * transaction that appends the entries they sum. `consumed` here is −Σ of the
 * consumed entries, without today's live accrual.
 */
@Entity('report_budget')
@Unique('report_budget_start_uq', ['projectId', 'periodStart'])
@Check('report_budget_period_ck', `"period_end" > "period_start"`)
@Exclusion('report_budget_no_overlap_ex', `USING gist ("project_id" WITH =, tstzrange("period_start", "period_end", '[)') WITH &&)`)
export class ReportBudget {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'report_budget_pk' })
  id: string;

  @Column('text', { name: 'project_id' })
  projectId: string;

  @Column('timestamptz', { name: 'period_start' })
  periodStart: Date;

  @Column('timestamptz', { name: 'period_end' })
  periodEnd: Date;

  /** The allocation's current record (stable for its life). */
  @Column('integer', { name: 'allocation_id', nullable: true })
  allocationId: number | null;

  /** The record (current or history) that is the approval in force. */
  @Column('integer', { name: 'approval_id', nullable: true })
  approvalId: number | null;

  @Column('numeric', { ...SU, default: 0 })
  granted: string;

  @Column('numeric', { ...SU, default: 0 })
  consumed: string;

  @Column('numeric', { ...SU, default: 0 })
  held: string;

  /** SU of usage after this budget's end and before the next one's start (6.2). */
  @Column('numeric', { ...SU, name: 'outside_period', default: 0 })
  outsidePeriod: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}

/** A ledger entry (6.2): append-only (a trigger refuses UPDATE and DELETE). */
@Entity('report_budget_entry')
@Check(
  'report_budget_entry_kind_ck',
  `"kind" IN ('grant', 'grant_adjustment', 'amie_debit', 'amie_credit', 'amie_reversal', 'accrual', 'accrual_adjustment', 'hold', 'hold_release', 'hold_expire', 'hold_settle', 'refund', 'manual_grant', 'manual_credit', 'manual_debit')`,
)
@Index('report_budget_entry_posted_idx', ['budgetId', 'postedAt', 'id'])
@Index('report_budget_entry_reverses_uq', ['reverses'], { unique: true, where: `"reverses" IS NOT NULL` })
@Index('report_budget_entry_source_idx', ['source'], { where: `"source" IS NOT NULL` })
// Migration 1763801820000 (budget debits): one AMIE entry per record version and budget; entries by ref.
@Index('report_budget_entry_amie_source_uq', ['budgetId', 'source'], { unique: true, where: `"kind" IN ('amie_debit', 'amie_credit', 'hold_settle') AND "source" IS NOT NULL` })
@Index('report_budget_entry_ref_idx', ['ref', 'projectId'], { where: `"ref" IS NOT NULL` })
export class ReportBudgetEntry {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'report_budget_entry_pk' })
  id: string;

  @Column('bigint', { name: 'budget_id' })
  budgetId: string;

  @ManyToOne(() => ReportBudget)
  @JoinColumn({ name: 'budget_id', foreignKeyConstraintName: 'report_budget_entry_budget_fk' })
  budget?: ReportBudget;

  @Column('text', { name: 'project_id' })
  projectId: string;

  @Column('text')
  kind: string;

  /** Signed SU: negative lowers `available`. */
  @Column('numeric', SU)
  amount: string;

  @Column('timestamptz')
  at: Date;

  @Column('timestamptz', { name: 'posted_at', default: () => 'clock_timestamp()' })
  postedAt: Date;

  /** `amie:<entity_id>`, `day:<YYYY-MM-DD>`, `hold:<id>`, `allocation:<id>` or null (6.2). */
  @Column('text', { nullable: true })
  ref: string | null;

  @Column('text')
  actor: string;

  @Column('text', { nullable: true })
  reason: string | null;

  @Column('text', { name: 'hold_id', nullable: true })
  holdId: string | null;

  /** What the entry accounts for, for the writers' idempotency (a record version, a day); never answered. */
  @Column('text', { nullable: true })
  source: string | null;

  /** The entry this one reverses (`amie_reversal`); at most one reversal per entry. */
  @Column('bigint', { nullable: true })
  reverses: string | null;

  @ManyToOne(() => ReportBudgetEntry)
  @JoinColumn({ name: 'reverses', foreignKeyConstraintName: 'report_budget_entry_reverses_fk' })
  reversed?: ReportBudgetEntry;
}

/** A hold (6.4). */
@Entity('report_budget_hold')
@Unique('report_budget_hold_reference_uq', ['projectId', 'reference'])
@Check('report_budget_hold_amount_ck', `"amount" > 0`)
@Check('report_budget_hold_state_ck', `"state" IN ('held', 'settled', 'released', 'expired')`)
@Index('report_budget_hold_expiry_idx', ['expiresAt'], { where: `"state" = 'held'` })
@Index('report_budget_hold_amie_uq', ['amieSite', 'amieResource', 'amieLocalRecordId'], { unique: true, where: `"state" = 'held' AND "amie_site" IS NOT NULL` })
export class ReportBudgetHold {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_budget_hold_pk' })
  id: string;

  @Column('text', { name: 'project_id' })
  projectId: string;

  @Column('bigint', { name: 'budget_id' })
  budgetId: string;

  @ManyToOne(() => ReportBudget)
  @JoinColumn({ name: 'budget_id', foreignKeyConstraintName: 'report_budget_hold_budget_fk' })
  budget?: ReportBudget;

  @Column('numeric', SU)
  amount: string;

  @Column('text')
  reference: string;

  /** Hash of the canonical request body: a replay with another body is 409. */
  @Column('text', { name: 'request_hash' })
  requestHash: string;

  @Column('text', { default: 'held' })
  state: string;

  @Column('numeric', { ...SU, name: 'settled_amount', nullable: true })
  settledAmount: string | null;

  @Column('numeric', { ...SU, name: 'refunded_amount', default: 0 })
  refundedAmount: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt: Date | null;

  @Column('text', { name: 'amie_site', nullable: true })
  amieSite: string | null;

  @Column('text', { name: 'amie_resource', nullable: true })
  amieResource: string | null;

  @Column('text', { name: 'amie_local_record_id', nullable: true })
  amieLocalRecordId: string | null;

  @Column('text', { nullable: true })
  description: string | null;
}

/** An event (6.7): the feed's rows; ids from one increasing sequence. */
@Entity('report_event')
@Index('report_event_project_idx', ['projectId', 'id'])
@Index('report_event_created_idx', ['createdAt'])
export class ReportEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'report_event_pk' })
  id: string;

  @Column('text')
  type: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'clock_timestamp()' })
  createdAt: Date;

  @Column('text', { name: 'project_id', nullable: true })
  projectId: string | null;

  @Column('jsonb')
  data: Record<string, unknown>;
}

/**
 * One crossing of a threshold (6.6): the primary key (budget period,
 * threshold, arming) makes its event exactly once; re-arming fills the
 * rearmed columns, and the next crossing is arming + 1.
 */
@Entity('report_budget_arming')
export class ReportBudgetArming {
  @PrimaryColumn('bigint', { name: 'budget_id', primaryKeyConstraintName: 'report_budget_arming_pk' })
  budgetId: string;

  @PrimaryColumn('integer', { primaryKeyConstraintName: 'report_budget_arming_pk' })
  threshold: number;

  @PrimaryColumn('integer', { primaryKeyConstraintName: 'report_budget_arming_pk' })
  arming: number;

  @ManyToOne(() => ReportBudget)
  @JoinColumn({ name: 'budget_id', foreignKeyConstraintName: 'report_budget_arming_budget_fk' })
  budget?: ReportBudget;

  @Column('timestamptz', { name: 'crossed_at' })
  crossedAt: Date;

  @Column('bigint', { name: 'crossed_event_id' })
  crossedEventId: string;

  @ManyToOne(() => ReportEvent)
  @JoinColumn({ name: 'crossed_event_id', foreignKeyConstraintName: 'report_budget_arming_crossed_fk' })
  crossedEvent?: ReportEvent;

  @Column('timestamptz', { name: 'rearmed_at', nullable: true })
  rearmedAt: Date | null;

  @Column('bigint', { name: 'rearmed_event_id', nullable: true })
  rearmedEventId: string | null;

  @ManyToOne(() => ReportEvent)
  @JoinColumn({ name: 'rearmed_event_id', foreignKeyConstraintName: 'report_budget_arming_rearmed_fk' })
  rearmedEvent?: ReportEvent;
}

export const BUDGET_ENTITIES = [ReportBudgetPolicy, ReportBudget, ReportBudgetEntry, ReportBudgetHold, ReportEvent, ReportBudgetArming];
