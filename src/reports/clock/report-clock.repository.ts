import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, Sql } from '../../database/query-result';

/** Configuration the clock records at every start (reports.md §7.1), beside what it fixes at the first. */
@Injectable()
export class ReportClockRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Records LATE_HORIZON_DAYS (§5.4), which the dirty-key triggers and
   * `report_horizon_refuses` read. Writes only when the value changes
   * (a non-key update: writers holding the clock FOR KEY SHARE do not wait).
   * Gives whether it changed.
   */
  async recordLateHorizon(days: number, sql: Sql = this.db): Promise<boolean> {
    return (
      (await runCount(sql, `UPDATE report_clock SET late_horizon_days = $1, updated_at = now() WHERE id = 1 AND late_horizon_days IS DISTINCT FROM $1`, [days])) > 0
    );
  }
}
