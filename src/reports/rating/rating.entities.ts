import { Check, Column, Entity, Exclusion, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The tables of rating and late data (reports.md §4, §5, §7.1).
 * migrations/1763801200000-Rating.ts is the truth. Decimals are `numeric`
 * and travel as strings. Validity is kept as instants (what the contract
 * speaks in) and as local days of the accounting zone (what rating and the
 * no-overlap constraint compare).
 */

/** A price list (§4.1): the default of its currency when `projectIds` is empty. */
@Entity('report_price_list')
@Check('report_price_list_currency_ck', `"currency" ~ '^([A-Z]{3}|SU)$'`)
@Index('report_price_list_default_uq', ['currency'], { unique: true, where: `"project_ids" = '{}'` })
export class ReportPriceList {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_price_list_pk' })
  id: string;

  @Column('text', { unique: true, name: 'name' })
  name: string;

  @Column('text')
  currency: string;

  @Column('text', { name: 'project_ids', array: true, default: () => `'{}'` })
  projectIds: string[];

  @Column('text', { default: '' })
  description: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('text', { name: 'created_by' })
  createdBy: string;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}

/** One row per project a list names: at most one list per (project, currency) (§4.1). */
@Entity('report_price_list_project')
@Index('report_price_list_project_list_idx', ['priceListId'])
export class ReportPriceListProject {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_price_list_project_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_price_list_project_pk' })
  currency: string;

  @Column('text', { name: 'price_list_id' })
  priceListId: string;

  @ManyToOne(() => ReportPriceList, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'price_list_id', foreignKeyConstraintName: 'report_price_list_project_list_fk' })
  priceList?: ReportPriceList;
}

/** A price item (§4.1): day-aligned validity; live items (not superseded) of one list never overlap per meter, key, subkey. */
@Entity('report_price_item')
@Check('report_price_item_price_ck', `"unit_price" >= 0`)
@Check('report_price_item_unit_ck', `"price_unit" IN ('hour', 'unit')`)
@Check('report_price_item_valid_ck', `"valid_to" IS NULL OR "valid_to" > "valid_from"`)
@Exclusion(
  'report_price_item_no_overlap_ex',
  `USING gist ("price_list_id" WITH =, "meter" WITH =, "key" WITH =, "subkey" WITH =, daterange("valid_from_day", "valid_to_day", '[)') WITH &&) WHERE ("superseded_by" IS NULL)`,
)
@Index('report_price_item_list_idx', ['priceListId', 'meter', 'key', 'subkey', 'validFrom'])
export class ReportPriceItem {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_price_item_pk' })
  id: string;

  @Column('text', { name: 'price_list_id' })
  priceListId: string;

  @ManyToOne(() => ReportPriceList, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'price_list_id', foreignKeyConstraintName: 'report_price_item_list_fk' })
  priceList?: ReportPriceList;

  @Column('text')
  meter: string;

  @Column('text')
  key: string;

  @Column('text', { default: '' })
  subkey: string;

  @Column('numeric', { name: 'unit_price' })
  unitPrice: string;

  @Column('text', { name: 'price_unit' })
  priceUnit: string;

  @Column('timestamptz', { name: 'valid_from' })
  validFrom: Date;

  @Column('timestamptz', { name: 'valid_to', nullable: true })
  validTo: Date | null;

  /** The local day `valid_from` starts (accounting zone). */
  @Column('date', { name: 'valid_from_day' })
  validFromDay: string;

  /** The local day `valid_to` starts; null = open-ended. */
  @Column('date', { name: 'valid_to_day', nullable: true })
  validToDay: string | null;

  @Column('text', { name: 'superseded_by', nullable: true })
  supersededBy: string | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('text', { name: 'created_by' })
  createdBy: string;

  @Column('text', { nullable: true })
  reason: string | null;
}

/** A correction (§4.3): the items it superseded and those it inserted, and its re-rate job. */
@Entity('report_price_correction')
@Index('report_price_correction_list_idx', ['priceListId', 'createdAt'])
export class ReportPriceCorrection {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_price_correction_pk' })
  id: string;

  @Column('text', { name: 'price_list_id' })
  priceListId: string;

  @ManyToOne(() => ReportPriceList, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'price_list_id', foreignKeyConstraintName: 'report_price_correction_list_fk' })
  priceList?: ReportPriceList;

  @Column('text')
  reason: string;

  @Column('text', { array: true, default: () => `'{}'` })
  superseded: string[];

  @Column('text', { array: true, default: () => `'{}'` })
  items: string[];

  @Column('text', { name: 'job_id', nullable: true })
  jobId: string | null;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('text', { name: 'created_by' })
  createdBy: string;
}

/** A rated day cell (§4.5): a usage day cell × one price list. Live: `supersededBy` null, one per key and list. */
@Entity('report_rated_day_cell')
@Index('report_rated_day_cell_live_uq', ['projectId', 'site', 'day', 'meter', 'key', 'subkey', 'priceListId'], { unique: true, where: `"superseded_by" IS NULL` })
@Index('report_rated_day_cell_day_idx', ['day', 'projectId'], { where: `"superseded_by" IS NULL` })
export class ReportRatedDayCell {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'report_rated_day_cell_pk' })
  id: string;

  @Column('text', { name: 'project_id' })
  projectId: string;

  @Column('text')
  site: string;

  @Column('date')
  day: string;

  @Column('text')
  meter: string;

  @Column('text')
  key: string;

  @Column('text')
  subkey: string;

  @Column('text', { name: 'price_list_id' })
  priceListId: string;

  @Column('text')
  currency: string;

  @Column('text', { name: 'item_id' })
  itemId: string;

  @Column('numeric', { name: 'unit_price' })
  unitPrice: string;

  @Column('text', { name: 'price_unit' })
  priceUnit: string;

  @Column('numeric')
  quantity: string;

  @Column('numeric')
  cost: string;

  /** `incremental`, or the job id of the re-rate that wrote it. */
  @Column('text', { name: 'rating_run' })
  ratingRun: string;

  @Column('timestamptz', { name: 'rated_at', default: () => 'now()' })
  ratedAt: Date;

  @Column('text', { name: 'superseded_by', nullable: true })
  supersededBy: string | null;

  @Column('timestamptz', { name: 'superseded_at', nullable: true })
  supersededAt: Date | null;
}

/** Σ of a month's live rated day cells, per list (I4), kept by delta. */
@Entity('report_rated_month_cell')
@Index('report_rated_month_cell_month_idx', ['month', 'projectId'])
export class ReportRatedMonthCell {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_rated_month_cell_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_month_cell_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_rated_month_cell_pk' })
  month: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_month_cell_pk' })
  meter: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_month_cell_pk' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_month_cell_pk' })
  subkey: string;

  @PrimaryColumn('text', { name: 'price_list_id', primaryKeyConstraintName: 'report_rated_month_cell_pk' })
  priceListId: string;

  @Column('text')
  currency: string;

  @Column('numeric')
  quantity: string;

  @Column('numeric')
  cost: string;

  @Column('integer')
  cells: number;

  /** The one item that rated every live day cell of the month cell; null when several did (migration 1763801600000). */
  @Column('text', { name: 'item_id', nullable: true })
  itemId: string | null;
}

/** Σ over projects of a site's live rated day cells, per list (I4), kept by delta; never read for a `user`. */
@Entity('report_rated_site_day_cell')
@Index('report_rated_site_day_cell_day_idx', ['day'])
export class ReportRatedSiteDayCell {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_site_day_cell_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_rated_site_day_cell_pk' })
  day: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_site_day_cell_pk' })
  meter: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_site_day_cell_pk' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_rated_site_day_cell_pk' })
  subkey: string;

  @PrimaryColumn('text', { name: 'price_list_id', primaryKeyConstraintName: 'report_rated_site_day_cell_pk' })
  priceListId: string;

  @Column('text')
  currency: string;

  @Column('numeric')
  quantity: string;

  @Column('numeric')
  cost: string;

  @Column('integer')
  cells: number;
}

/** A period (§5.2): a calendar month of the accounting zone (`month` is its first day); no row = open. */
@Entity('report_period')
@Check('report_period_state_ck', `"state" IN ('open', 'closing', 'closed')`)
export class ReportPeriod {
  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_period_pk' })
  month: string;

  @Column('text')
  state: string;

  @Column('text', { name: 'job_id', nullable: true })
  jobId: string | null;

  @Column('timestamptz', { name: 'closing_since', nullable: true })
  closingSince: Date | null;

  @Column('timestamptz', { name: 'closed_at', nullable: true })
  closedAt: Date | null;
}

/** A frozen cell of a closed period (§5.2): `priceListId` '' is the usage cell, else the rated cell of that list. */
@Entity('report_closed_cell')
@Index('report_closed_cell_month_idx', ['month', 'projectId'])
export class ReportClosedCell {
  @Column('date')
  month: string;

  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_closed_cell_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_closed_cell_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_closed_cell_pk' })
  day: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_closed_cell_pk' })
  meter: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_closed_cell_pk' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_closed_cell_pk' })
  subkey: string;

  @PrimaryColumn('text', { name: 'price_list_id', default: '', primaryKeyConstraintName: 'report_closed_cell_pk' })
  priceListId: string;

  @Column('text', { nullable: true })
  currency: string | null;

  @Column('numeric')
  quantity: string;

  @Column('numeric', { nullable: true })
  cost: string | null;

  /** The item of the rated day cell frozen (migration 1763801860000); null for usage cells, or unknown. */
  @Column('text', { name: 'item_id', nullable: true })
  itemId: string | null;
}

/** An adjustment line (§5.3), appended, never changed: `priceListId` '' is a quantity line. */
@Entity('report_adjustment_line')
@Check('report_adjustment_line_cause_ck', `"cause" IN ('late_data', 'rerate', 'correction', 'flavor_change', 'backfill')`)
@Index('report_adjustment_line_posted_idx', ['postedAt'])
@Index('report_adjustment_line_day_idx', ['day', 'projectId'])
export class ReportAdjustmentLine {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'report_adjustment_line_pk' })
  id: string;

  @Column('date', { name: 'applies_to_period' })
  appliesToPeriod: string;

  @Column('date')
  day: string;

  @Column('timestamptz', { name: 'posted_at', default: () => 'now()' })
  postedAt: Date;

  @Column('date', { name: 'posted_in_period' })
  postedInPeriod: string;

  @Column('text', { name: 'project_id' })
  projectId: string;

  @Column('text')
  site: string;

  @Column('text')
  meter: string;

  @Column('text')
  key: string;

  @Column('text')
  subkey: string;

  @Column('text', { name: 'price_list_id', default: '' })
  priceListId: string;

  @Column('text', { nullable: true })
  currency: string | null;

  @Column('numeric', { name: 'quantity_delta' })
  quantityDelta: string;

  @Column('numeric', { name: 'cost_delta', nullable: true })
  costDelta: string | null;

  @Column('text')
  cause: string;

  @Column('text', { name: 'job_id', nullable: true })
  jobId: string | null;

  /** Cost lines: the item of the live rated cell the line brings the cell to (null: none). */
  @Column('text', { name: 'item_id', nullable: true })
  itemId: string | null;

  /** Cost lines: the item of the figures the line corrects (the frozen cell's or the previous line's; null: none). */
  @Column('text', { name: 'prior_item_id', nullable: true })
  priorItemId: string | null;
}

/** A backfill window (§5.4): writes into [start, end) are accepted past the horizon until `expiresAt`. */
@Entity('report_backfill')
@Check('report_backfill_window_ck', `"end" > "start"`)
@Index('report_backfill_expires_idx', ['expiresAt'])
export class ReportBackfill {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_backfill_pk' })
  id: string;

  @Column('timestamptz')
  start: Date;

  @Column('timestamptz')
  end: Date;

  @Column('date', { name: 'start_day' })
  startDay: string;

  @Column('date', { name: 'end_day' })
  endDay: string;

  @Column('text')
  reason: string;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('text', { name: 'created_by' })
  createdBy: string;
}

export const RATING_ENTITIES = [
  ReportPriceList,
  ReportPriceListProject,
  ReportPriceItem,
  ReportPriceCorrection,
  ReportRatedDayCell,
  ReportRatedMonthCell,
  ReportRatedSiteDayCell,
  ReportPeriod,
  ReportClosedCell,
  ReportAdjustmentLine,
  ReportBackfill,
];
