import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CellKey, keyArrays } from '../rollups/rollup.repository';
import { isDirty } from '../rollups/dirty-sql';
import { runOne, runRows, Sql } from '../../database/query-result';

/** `created_by` of the nightly sampled checks (reports.md 7.5). */
export const NIGHTLY_CREATOR = 'nightly';

/** A month or site-day sum against its day cells (I3). */
export interface SumRow {
  /** null for a site-day cell. */
  project_id: string | null;
  site: string;
  /** The month's first day for a month cell. */
  day: string;
  meter: string;
  key: string;
  subkey: string;
  stored: string;
  recomputed: string;
  stored_items: number;
  recomputed_items: number;
}

export interface SumComparison {
  checked: number;
  differing: number;
  rows: SumRow[];
}

/** A rollup key: one project's figures of one site on one local day (the rollups' CellKey). */
export type DayKey = CellKey;

const DAY = `to_char(day, 'YYYY-MM-DD')`;

/**
 * The instant a local day starts (reports.md 1.5), as SQL over a date
 * expression and a zone parameter.
 */
const dayStart = (day: string, zone: string) => `report_day_start(${day}, ${zone})`;

/**
 * The consistency check's own statements (reports.md 7.5): the projects and
 * keys in scope and the dirty keys among them. Cells are recomputed, read
 * and marked dirty through the rollups' repository, the worker's own SQL.
 * A key is in scope when it has a stored day cell or raw history on its day:
 * an Almanach version overlapping the day (site = report_clock's cloud site)
 * or a loaded AMIE record attributed to it (its own site, at
 * coalesce(usage_end, usage_start)).
 */
@Injectable()
export class ConsistencyCheckRepository {
  constructor(private readonly db: DataSource) {}

  /** The UTC instants (`…Z`, milliseconds) at which two local days start. */
  async dayStarts(first: string, end: string, zone: string, sql: Sql = this.db): Promise<{ start: string; end: string }> {
    const iso = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    const row = await runOne<{ start: string; end: string }>(
      sql,
      `SELECT ${iso(dayStart('$1::date', '$3'))} AS start, ${iso(dayStart('$2::date', '$3'))} AS "end"`,
      [first, end, zone],
    );
    return row!;
  }

  /**
   * Takes the nightly check's transaction lock and answers whether a nightly
   * check for this booked day is already stored (any process may schedule
   * it; the first one does).
   */
  async nightlyScheduled(bookedDay: string, sql: Sql): Promise<boolean> {
    await runRows(sql, `SELECT pg_advisory_xact_lock(hashtextextended('nightly_check', 7919))`);
    const row = await runOne(
      sql,
      `SELECT 1 FROM report_job WHERE kind = 'consistency_check' AND created_by = $1 AND scope->>'nightly_for' = $2 LIMIT 1`,
      [NIGHTLY_CREATOR, bookedDay],
    );
    return row !== undefined;
  }

  /** Projects with a stored day cell or raw history in the local days [first, end), in byte order. */
  async projectsWithData(first: string, end: string, zone: string, sql: Sql = this.db): Promise<string[]> {
    const rows = await runRows<{ project_id: string }>(
      sql,
      `WITH w AS (SELECT ${dayStart('$1::date', '$3')} AS s, ${dayStart('$2::date', '$3')} AS e)
       SELECT project_id FROM (
         SELECT project_id FROM report_usage_day_cell WHERE day >= $1::date AND day < $2::date
         UNION SELECT v.project_id FROM almanach_entity_version v, w WHERE v.start < w.e AND coalesce(v."end", 'infinity') > w.s
         UNION SELECT r.local_project_id FROM amie_usage_record r, w
           WHERE coalesce(r.usage_end, r.usage_start) >= w.s AND coalesce(r.usage_end, r.usage_start) < w.e
       ) p ORDER BY project_id COLLATE "C"`,
      [first, end, zone],
    );
    return rows.map((r) => r.project_id);
  }

  /**
   * Up to `n` random (project, day) pairs with data in [first, end), of the
   * given projects or of all: a pair with neither cells nor history has
   * nothing a check could find.
   */
  async samplePairs(first: string, end: string, zone: string, projects: string[] | null, n: number, sql: Sql = this.db): Promise<[string, string][]> {
    const rows = await runRows<{ project_id: string; day: string }>(
      sql,
      `WITH days AS (
         SELECT d::date AS day, ${dayStart('d::date', '$3')} AS s, ${dayStart('(d + interval \'1 day\')::date', '$3')} AS e
         FROM generate_series($1::date, $2::date - 1, interval '1 day') AS d),
       w AS (SELECT min(s) AS s, max(e) AS e FROM days)
       SELECT project_id, ${DAY} AS day FROM (
         SELECT project_id, day FROM report_usage_day_cell
           WHERE day >= $1::date AND day < $2::date AND ($4::text[] IS NULL OR project_id = ANY($4))
         UNION SELECT v.project_id, days.day FROM w, almanach_entity_version v JOIN days ON v.start < days.e AND coalesce(v."end", 'infinity') > days.s
           WHERE v.start < w.e AND coalesce(v."end", 'infinity') > w.s AND ($4::text[] IS NULL OR v.project_id = ANY($4))
         UNION SELECT r.local_project_id, days.day FROM amie_usage_record r
           JOIN days ON coalesce(r.usage_end, r.usage_start) >= days.s AND coalesce(r.usage_end, r.usage_start) < days.e
           WHERE ($4::text[] IS NULL OR r.local_project_id = ANY($4))
       ) pairs ORDER BY random() LIMIT $5`,
      [first, end, zone, projects, n],
    );
    return rows.map((r) => [r.project_id, r.day]);
  }

  /** The keys in scope of these (project, day) pairs, in key order. */
  async keysOf(pairs: [string, string][], zone: string, cloudSite: string, sql: Sql = this.db): Promise<DayKey[]> {
    if (pairs.length === 0) return [];
    return runRows<DayKey>(
      sql,
      `WITH p AS (SELECT * FROM unnest($1::text[], $2::date[]) AS p(project_id, day)),
       d AS (SELECT day, ${dayStart('day', '$3')} AS s, ${dayStart('(day + 1)', '$3')} AS e FROM (SELECT DISTINCT day FROM p) x),
       pd AS (SELECT p.project_id, p.day, d.s, d.e FROM p JOIN d USING (day))
       SELECT project_id, site, ${DAY} AS day FROM (
         SELECT c.project_id, c.site, c.day FROM report_usage_day_cell c JOIN pd ON c.project_id = pd.project_id AND c.day = pd.day
         UNION SELECT pd.project_id, $4::text, pd.day FROM pd
           WHERE EXISTS (SELECT 1 FROM almanach_entity_version v WHERE v.project_id = pd.project_id AND v.start < pd.e AND coalesce(v."end", 'infinity') > pd.s)
         UNION SELECT pd.project_id, r.site, pd.day FROM pd JOIN amie_usage_record r ON r.local_project_id = pd.project_id
           AND coalesce(r.usage_end, r.usage_start) >= pd.s AND coalesce(r.usage_end, r.usage_start) < pd.e
       ) k ORDER BY project_id COLLATE "C", site COLLATE "C", day`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1]), zone, cloudSite],
    );
  }

  /**
   * Those of `keys` that are in D now (in this transaction's snapshot): in
   * report_dirty_key, or in an undrained report_dirty_range.
   */
  async dirtyAmong(keys: DayKey[], sql: Sql = this.db): Promise<DayKey[]> {
    if (keys.length === 0) return [];
    return runRows<DayKey>(
      sql,
      `SELECT k.project_id, k.site, to_char(k.day, 'YYYY-MM-DD') AS day
       FROM unnest($1::text[], $2::text[], $3::date[]) AS k(project_id, site, day)
       WHERE ${isDirty('k.project_id', 'k.site', 'k.day')}`,
      keyArrays(keys),
    );
  }

  /**
   * I3 for the month cells of one month (reports.md 7.4): each stored
   * report_usage_month_cell against the sum of its day cells (quantity and
   * number of day cells; an absent cell is zero), of the given projects or of
   * all, leaving out (project, site) pairs with a dirty key or range in the month.
   * Answers how many cells were compared, how many differ, and the first
   * `limit` differences.
   */
  async monthSums(month: string, projects: string[] | null, limit: number, sql: Sql = this.db): Promise<SumComparison> {
    return this.compareSums(
      `WITH sums AS (
         SELECT project_id, site, meter, key, subkey, sum(quantity) AS quantity, count(*)::int AS cells FROM report_usage_day_cell
         WHERE day >= $1::date AND day < ($1::date + interval '1 month')::date AND ($2::text[] IS NULL OR project_id = ANY($2))
         GROUP BY 1, 2, 3, 4, 5),
       stored AS (
         SELECT project_id, site, meter, key, subkey, quantity, cells FROM report_usage_month_cell
         WHERE month = $1::date AND ($2::text[] IS NULL OR project_id = ANY($2))),
       joined AS (
         SELECT project_id, site, to_char($1::date, 'YYYY-MM-DD') AS day, meter, key, subkey,
                coalesce(m.quantity, 0) AS stored_q, coalesce(s.quantity, 0) AS recomputed_q,
                coalesce(m.cells, 0) AS stored_items, coalesce(s.cells, 0) AS recomputed_items
         FROM sums s FULL JOIN stored m USING (project_id, site, meter, key, subkey)),
       compared AS (
         SELECT * FROM joined c WHERE NOT EXISTS (
           SELECT 1 FROM report_dirty_key d WHERE d.project_id = c.project_id AND d.site = c.site
             AND d.day >= $1::date AND d.day < ($1::date + interval '1 month')::date)
           AND NOT EXISTS (
           SELECT 1 FROM report_dirty_range r WHERE r.project_id = c.project_id AND r.site = c.site
             AND r.last_day >= $1::date AND r.first_day < ($1::date + interval '1 month')::date))`,
      [month, projects],
      limit,
      sql,
    );
  }

  /**
   * I3 for the site-day cells of local days [first, end): each stored
   * report_usage_site_day_cell against the sum over projects of its day
   * cells, leaving out (site, day) pairs with a dirty key or range.
   */
  async siteDaySums(first: string, end: string, limit: number, sql: Sql = this.db): Promise<SumComparison> {
    return this.compareSums(
      `WITH sums AS (
         SELECT site, day, meter, key, subkey, sum(quantity) AS quantity, count(*)::int AS cells FROM report_usage_day_cell
         WHERE day >= $1::date AND day < $2::date GROUP BY 1, 2, 3, 4, 5),
       stored AS (
         SELECT site, day, meter, key, subkey, quantity, cells FROM report_usage_site_day_cell WHERE day >= $1::date AND day < $2::date),
       joined AS (
         SELECT NULL::text AS project_id, site, day AS day_date, to_char(day, 'YYYY-MM-DD') AS day, meter, key, subkey,
                coalesce(m.quantity, 0) AS stored_q, coalesce(s.quantity, 0) AS recomputed_q,
                coalesce(m.cells, 0) AS stored_items, coalesce(s.cells, 0) AS recomputed_items
         FROM sums s FULL JOIN stored m USING (site, day, meter, key, subkey)),
       compared AS (
         SELECT * FROM joined c WHERE NOT EXISTS (SELECT 1 FROM report_dirty_key d WHERE d.site = c.site AND d.day = c.day_date)
           AND NOT EXISTS (SELECT 1 FROM report_dirty_range r WHERE r.site = c.site AND r.first_day <= c.day_date AND r.last_day >= c.day_date))`,
      [first, end],
      limit,
      sql,
    );
  }

  private async compareSums(compared: string, params: unknown[], limit: number, sql: Sql): Promise<SumComparison> {
    const differs = `(stored_q <> recomputed_q OR stored_items <> recomputed_items)`;
    const counts = await runOne<{ checked: number; differing: number }>(
      sql,
      `${compared} SELECT count(*)::int AS checked, (count(*) FILTER (WHERE ${differs}))::int AS differing FROM compared`,
      params,
    );
    const rows = counts!.differing
      ? await runRows<SumRow>(
          sql,
          `${compared} SELECT project_id, site, day, meter, key, subkey, stored_q::text AS stored, recomputed_q::text AS recomputed, stored_items, recomputed_items
           FROM compared WHERE ${differs}
           ORDER BY project_id COLLATE "C" NULLS FIRST, site COLLATE "C", day, meter COLLATE "C", key COLLATE "C", subkey COLLATE "C" LIMIT $${params.length + 1}`,
          [...params, limit],
        )
      : [];
    return { checked: counts!.checked, differing: counts!.differing, rows };
  }
}

