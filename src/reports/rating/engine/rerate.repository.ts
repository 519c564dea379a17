import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../../database/query-result';
import { CellKey } from '../../rollups/rollup.repository';

/** A re-rate window as local days of the accounting zone, and whether its instants fall on day starts. */
export interface AlignedWindow {
  first_day: string;
  end_day: string;
  start_aligned: boolean;
  end_aligned: boolean;
  /** The start of today (accounting zone), as an ISO instant. */
  today_start: string;
  end_after_today: boolean;
}

/** The SQL of re-rate jobs (reports.md §4.6, §4.7): their window, their projects, the keys of one day. */
@Injectable()
export class RerateRepository {
  constructor(private readonly db: DataSource) {}

  /** The local days of [start, end) in `zone` and whether both bounds start a day (§4.6: day-aligned). */
  async align(start: string, end: string, zone: string, sql: Sql = this.db): Promise<AlignedWindow> {
    return (await runOne<AlignedWindow>(
      sql,
      `SELECT report_local_day($1::timestamptz, $3)::text AS first_day, report_local_day($2::timestamptz, $3)::text AS end_day,
              report_day_start(report_local_day($1::timestamptz, $3), $3) = $1::timestamptz AS start_aligned,
              report_day_start(report_local_day($2::timestamptz, $3), $3) = $2::timestamptz AS end_aligned,
              to_char(report_day_start(report_local_day(now(), $3), $3) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS today_start,
              $2::timestamptz > report_day_start(report_local_day(now(), $3), $3) AS end_after_today`,
      [start, end, zone],
    ))!;
  }

  /** The local days of an instant window stored in a job's scope. */
  async daysOf(start: string, end: string, zone: string, sql: Sql): Promise<{ first_day: string; end_day: string }> {
    return (await runOne<{ first_day: string; end_day: string }>(
      sql,
      `SELECT report_local_day($1::timestamptz, $3)::text AS first_day,
              (report_local_day($2::timestamptz - interval '1 microsecond', $3) + 1)::text AS end_day`,
      [start, end, zone],
    ))!;
  }

  /** Every project with a usage day cell in the local days [first, end) (§4.7 decision), sorted. */
  async projectsWithCells(first: string, end: string, sql: Sql): Promise<string[]> {
    const rows = await runRows<{ project_id: string }>(
      sql,
      `SELECT project_id FROM (SELECT DISTINCT project_id FROM report_usage_day_cell WHERE day >= $1::date AND day < $2::date) p ORDER BY project_id COLLATE "C"`,
      [first, end],
    );
    return rows.map((r) => r.project_id);
  }

  /** The (project, site, day) keys of the days [first, end) for `projects` that hold a usage day cell or a live rated cell, in key order. */
  async storedKeys(first: string, end: string, projects: string[], sql: Sql): Promise<CellKey[]> {
    return runRows<CellKey>(
      sql,
      `SELECT project_id, site, day::text AS day FROM (
         SELECT project_id, site, day FROM report_usage_day_cell WHERE day >= $1::date AND day < $2::date AND project_id = ANY($3::text[])
         UNION SELECT project_id, site, day FROM report_rated_day_cell
         WHERE day >= $1::date AND day < $2::date AND superseded_by IS NULL AND project_id = ANY($3::text[])
       ) k ORDER BY project_id COLLATE "C", site COLLATE "C", day`,
      [first, end, projects],
    );
  }
}
