import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runRows, Sql } from '../../database/query-result';

export interface ProjectRow {
  project_id: string;
  name: string | null;
  allocation_id: number | null;
  first_usage: string | null;
  last_usage: string | null;
}

export interface PeriodRow {
  period: string;
  start: string;
  end: string;
}

/** An instant as the answers give it: UTC, milliseconds, `Z`. */
const UTC_MILLIS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** The current, non-deleted allocation record of a project (allocations.md §4: at most one). */
const currentAllocation = (x: string) => `${x}.parent_request IS NULL AND ${x}.status <> 'D' AND ${x}.project_id IS NOT NULL`;

/**
 * Projects and periods (reports.md §3.3, §3.4), read from the usage cells
 * (month, day and today cells; never raw history) and the allocations.
 */
@Injectable()
export class ProjectsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Projects with a usage cell or a current, non-deleted allocation, by
   * project_id in byte order, after `after`, at most `limit`.
   */
  async visible(after: string | null, limit: number, sql: Sql = this.db): Promise<ProjectRow[]> {
    return runRows<ProjectRow>(
      sql,
      `WITH p AS (
         SELECT project_id FROM (
           SELECT project_id FROM report_usage_month_cell
           UNION SELECT project_id FROM report_usage_today_cell
           UNION SELECT x.project_id FROM allocation x WHERE ${currentAllocation('x')}
         ) u
         WHERE $1::text IS NULL OR project_id COLLATE "C" > $1::text COLLATE "C"
         ORDER BY project_id COLLATE "C"
         LIMIT $2
       )
       ${describe('p')}`,
      [after, limit],
    );
  }

  /** The given projects (a `user`'s own), each described whether or not it has data. */
  async these(projectIds: string[], sql: Sql = this.db): Promise<ProjectRow[]> {
    if (projectIds.length === 0) return [];
    return runRows<ProjectRow>(sql, `WITH p AS (SELECT DISTINCT project_id FROM unnest($1::text[]) AS u(project_id)) ${describe('p')}`, [projectIds]);
  }

  /**
   * The calendar months of `zone` from the first with a usage cell (of
   * `projects`; undefined: any project) to the current one, newest first,
   * with their bounds; only the current month when there is no data.
   */
  async periods(zone: string, projects: string[] | undefined, sql: Sql = this.db): Promise<PeriodRow[]> {
    return runRows<PeriodRow>(
      sql,
      `WITH c AS (SELECT date_trunc('month', report_local_day(now(), $1::text))::date AS cur),
       f AS (
         SELECT least(
           (SELECT min(m.month) FROM report_usage_month_cell m WHERE $2::text[] IS NULL OR m.project_id = ANY($2::text[])),
           (SELECT date_trunc('month', min(t.day))::date FROM report_usage_today_cell t WHERE $2::text[] IS NULL OR t.project_id = ANY($2::text[])),
           c.cur) AS first
         FROM c
       )
       SELECT to_char(g.m, 'YYYY-MM') AS period,
              to_char(report_day_start(g.m::date, $1::text) AT TIME ZONE 'UTC', ${UTC_MILLIS}) AS start,
              to_char(report_day_start((g.m + interval '1 month')::date, $1::text) AT TIME ZONE 'UTC', ${UTC_MILLIS}) AS "end"
       FROM c, f, generate_series(c.cur::timestamp, f.first::timestamp, interval '-1 month') AS g(m)
       ORDER BY g.m DESC`,
      [zone, projects ?? null],
    );
  }
}

/**
 * Name and allocation of each project of relation `p`, and its first and
 * last local day with a usage cell: the month cells give the first and last
 * month, the day cells of those months the day; the today cells add the
 * booked day.
 */
function describe(p: string): string {
  return `
    SELECT ${p}.project_id, a.project_name AS name, a.id AS allocation_id,
           least(fd.day, t.first)::text AS first_usage, greatest(ld.day, t.last)::text AS last_usage
    FROM ${p}
    LEFT JOIN LATERAL (
      SELECT x.id, x.project_name FROM allocation x WHERE x.project_id = ${p}.project_id AND ${currentAllocation('x')}
      ORDER BY x.id LIMIT 1
    ) a ON true
    LEFT JOIN LATERAL (
      SELECT min(m.month) AS first, max(m.month) AS last FROM report_usage_month_cell m WHERE m.project_id = ${p}.project_id
    ) mm ON true
    LEFT JOIN LATERAL (
      SELECT min(d.day) AS day FROM report_usage_day_cell d
      WHERE d.project_id = ${p}.project_id AND d.day >= mm.first AND d.day < (mm.first + interval '1 month')
    ) fd ON true
    LEFT JOIN LATERAL (
      SELECT max(d.day) AS day FROM report_usage_day_cell d
      WHERE d.project_id = ${p}.project_id AND d.day >= mm.last AND d.day < (mm.last + interval '1 month')
    ) ld ON true
    LEFT JOIN LATERAL (
      SELECT min(t.day) AS first, max(t.day) AS last FROM report_usage_today_cell t WHERE t.project_id = ${p}.project_id
    ) t ON true
    ORDER BY ${p}.project_id COLLATE "C"`;
}
