import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, Sql } from '../../../database/query-result';

/** What decides whether accrued_today needs the report statement at all (AccruedTodayService). */
export interface AccruedScope {
  /** Whether an `SU` price list exists (without one nothing is rated in SU). */
  hasList: boolean;
  /**
   * The asked projects with an instance or volume today cell, or any today
   * cell at CLOUD_SITE (7.2), or null
   * when the today cells do not answer for today (the day roll has not run
   * yet: the report reads today from raw history).
   */
  withCells: string[] | null;
}

/**
 * The one probe of accrued_today (reports.md 6.2): one statement, one
 * snapshot. When the day roll has run, the report statement reads today's
 * instance and volume usage from the today cells (7.2), and from raw
 * history only for a (project, site) with a today cell behind `as_of`, the
 * site being CLOUD_SITE for Almanach rows. So a project with no instance or
 * volume today cell and no today cell at CLOUD_SITE (an HPC project whose
 * AMIE records are its only usage today, say) has an accrued_today of
 * exactly zero: the statement would give it no row of those meters.
 */
@Injectable()
export class AccruedTodayRepository {
  constructor(private readonly db: DataSource) {}

  async scope(projectIds: string[], sql: Sql = this.db): Promise<AccruedScope> {
    const row = await runOne<{ has_list: boolean; rolled: boolean | null; with_cells: string[] }>(
      sql,
      `SELECT EXISTS (SELECT 1 FROM report_price_list WHERE currency = 'SU') AS has_list,
              (SELECT c.booked_day = report_local_day(now(), c.time_zone) FROM report_clock c WHERE c.id = 1) AS rolled,
              ARRAY(SELECT DISTINCT t.project_id FROM report_clock c JOIN report_usage_today_cell t ON t.day = c.booked_day
                    WHERE c.id = 1 AND t.project_id = ANY($1::text[])
                      AND (t.meter LIKE 'instance.%' OR t.meter LIKE 'volume.%' OR t.site = c.cloud_site)) AS with_cells`,
      [projectIds],
    );
    return { hasList: row!.has_list, withCells: row!.rolled === true ? row!.with_cells : null };
  }
}
