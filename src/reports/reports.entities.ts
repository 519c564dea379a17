import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The tables of the reports module (reports.md §2.4, §4.4, §7.1). Quantities
 * are `numeric` and travel as strings; they are never read into a JS number.
 * migrations/1763800600000-Reports.ts is the truth, with the functions and
 * triggers TypeORM does not describe.
 */

/** One row: the accounting zone, the Almanach site and the booked day, fixed at the first start (§1.5, §2.3). */
@Entity('report_clock')
@Check('report_clock_one_row_ck', `"id" = 1`)
export class ReportClock {
  @PrimaryColumn('smallint', { default: 1, primaryKeyConstraintName: 'report_clock_pk' })
  id: number;

  @Column('text', { name: 'time_zone' })
  timeZone: string;

  @Column('text', { name: 'cloud_site' })
  cloudSite: string;

  /** The local day whose usage the today cells hold; days before it are booked. */
  @Column('date', { name: 'booked_day' })
  bookedDay: string;

  @Column('integer', { name: 'late_horizon_days', default: 0 })
  lateHorizonDays: number;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}

@Entity('report_flavor')
@Check('report_flavor_sizes_ck', `"vcpus" >= 0 AND "ram_mb" >= 0 AND "disk_gb" >= 0 AND "gpus" >= 0`)
export class ReportFlavor {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_flavor_pk' })
  name: string;

  @Column('integer')
  vcpus: number;

  @Column('integer', { name: 'ram_mb' })
  ramMb: number;

  @Column('integer', { name: 'disk_gb' })
  diskGb: number;

  @Column('integer', { default: 0 })
  gpus: number;

  @Column('text', { default: '' })
  description: string;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;

  @Column('text', { name: 'updated_by' })
  updatedBy: string;
}

@Entity('report_flavor_alias')
@Index('report_flavor_alias_flavor_idx', ['flavorName'])
export class ReportFlavorAlias {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_flavor_alias_pk' })
  alias: string;

  @Column('text', { name: 'flavor_name' })
  flavorName: string;

  @ManyToOne(() => ReportFlavor, { onDelete: 'CASCADE', onUpdate: 'CASCADE' })
  @JoinColumn({ name: 'flavor_name', foreignKeyConstraintName: 'report_flavor_alias_flavor_fk' })
  flavor?: ReportFlavor;
}

/** One entry per changed object (§4.4): price lists, items and flavors. */
@Entity('report_audit')
@Index('report_audit_object_idx', ['object', 'objectId', 'at'])
@Index('report_audit_price_list_idx', ['priceListId', 'at', 'id'], { where: `"price_list_id" IS NOT NULL` })
export class ReportAudit {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_audit_pk' })
  id: string;

  /** When the entry was written (clock_timestamp: the entries of one transaction keep their order). */
  @Column('timestamptz', { default: () => 'clock_timestamp()' })
  at: Date;

  @Column('text')
  actor: string;

  @Column('text')
  action: string;

  @Column('text')
  object: string;

  @Column('text', { name: 'object_id' })
  objectId: string;

  @Column('text', { name: 'price_list_id', nullable: true })
  priceListId: string | null;

  @Column('jsonb', { nullable: true })
  before: unknown;

  @Column('jsonb', { nullable: true })
  after: unknown;

  @Column('text', { nullable: true })
  reason: string | null;
}

/** A (project, site, local day) whose cells may be stale; written by triggers, deleted by the worker (§7.2). */
@Entity('report_dirty_key')
@Index('report_dirty_key_claim_idx', ['firstDirtiedAt', 'projectId', 'day', 'site'])
@Index('report_dirty_key_day_idx', ['day'])
export class ReportDirtyKey {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_dirty_key_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_dirty_key_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_dirty_key_pk' })
  day: string;

  @Column('timestamptz', { name: 'first_dirtied_at', default: () => 'now()' })
  firstDirtiedAt: Date;
}

/**
 * Days [first_day, last_day] of a (project, site) whose cells may be stale:
 * one row for a change spanning more than 31 days, written by the Almanach
 * triggers instead of its keys, expanded into report_dirty_key by the worker
 * in chunks (§7.2, issue 9).
 */
@Entity('report_dirty_range')
@Index('report_dirty_range_order_idx', ['firstDirtiedAt', 'id'])
@Index('report_dirty_range_key_idx', ['projectId', 'site', 'firstDay'])
export class ReportDirtyRange {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'report_dirty_range_pk' })
  id: string;

  @Column('text', { name: 'project_id' })
  projectId: string;

  @Column('text')
  site: string;

  @Column('date', { name: 'first_day' })
  firstDay: string;

  @Column('date', { name: 'last_day' })
  lastDay: string;

  @Column('timestamptz', { name: 'first_dirtied_at', default: () => 'now()' })
  firstDirtiedAt: Date;
}

/** Usage of one booked local day: project, site, day, meter, key, subkey (I1). */
@Entity('report_usage_day_cell')
@Index('report_usage_day_cell_day_idx', ['day', 'projectId'])
export class ReportUsageDayCell {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_usage_day_cell_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_day_cell_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_usage_day_cell_pk' })
  day: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_day_cell_pk' })
  meter: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_day_cell_pk' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_day_cell_pk' })
  subkey: string;

  @Column('numeric')
  quantity: string;

  /** Contributing entities or records. */
  @Column('integer')
  items: number;

  /**
   * The quantity the site-day sums hold for this cell (they move by delta):
   * equal to `quantity` unless someone edited `quantity` by hand, in which
   * case the repair (the consistency check marks the key dirty) restores both
   * without shifting the sums.
   */
  @Column('numeric')
  summed: string;
}

/**
 * The booked day's usage as a function of time (I2): quantity(t) =
 * closed_part + open_weight × epoch(t) − open_anchor, exact for t at or after
 * max_open_start and max_closed_end.
 */
@Entity('report_usage_today_cell')
@Index('report_usage_today_cell_day_idx', ['day'])
export class ReportUsageTodayCell {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_usage_today_cell_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_today_cell_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_usage_today_cell_pk' })
  day: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_today_cell_pk' })
  meter: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_today_cell_pk' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_today_cell_pk' })
  subkey: string;

  @Column('numeric', { name: 'closed_part' })
  closedPart: string;

  @Column('numeric', { name: 'open_weight' })
  openWeight: string;

  /** Σ weight × epoch seconds of max(start, day start) over open versions. */
  @Column('numeric', { name: 'open_anchor' })
  openAnchor: string;

  @Column('timestamptz', { name: 'max_open_start', nullable: true })
  maxOpenStart: Date | null;

  @Column('timestamptz', { name: 'max_closed_end', nullable: true })
  maxClosedEnd: Date | null;

  @Column('integer')
  items: number;
}

/** Σ of a month's day cells (I3), kept by delta in the worker's transaction. */
@Entity('report_usage_month_cell')
@Index('report_usage_month_cell_month_idx', ['month', 'projectId'])
/** (month, project_id COLLATE "C"): migration 1763801990000. */
@Index('report_usage_month_cell_month_project_c_idx', { synchronize: false })
export class ReportUsageMonthCell {
  @PrimaryColumn('text', { name: 'project_id', primaryKeyConstraintName: 'report_usage_month_cell_pk' })
  projectId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_month_cell_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_usage_month_cell_pk' })
  month: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_month_cell_pk' })
  meter: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_month_cell_pk' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_month_cell_pk' })
  subkey: string;

  @Column('numeric')
  quantity: string;

  /** How many day cells the sum holds; the row goes when it reaches 0. */
  @Column('integer')
  cells: number;
}

/** Σ over projects of a site's day cells (I3); never read for a `user` (§1.3). */
@Entity('report_usage_site_day_cell')
@Index('report_usage_site_day_cell_day_idx', ['day'])
export class ReportUsageSiteDayCell {
  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_site_day_cell_pk' })
  site: string;

  @PrimaryColumn('date', { primaryKeyConstraintName: 'report_usage_site_day_cell_pk' })
  day: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_site_day_cell_pk' })
  meter: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_site_day_cell_pk' })
  key: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'report_usage_site_day_cell_pk' })
  subkey: string;

  @Column('numeric')
  quantity: string;

  @Column('integer')
  cells: number;
}

export const REPORT_ENTITIES = [
  ReportClock,
  ReportFlavor,
  ReportFlavorAlias,
  ReportAudit,
  ReportDirtyKey,
  ReportDirtyRange,
  ReportUsageDayCell,
  ReportUsageTodayCell,
  ReportUsageMonthCell,
  ReportUsageSiteDayCell,
];
