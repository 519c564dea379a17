/**
 * The dirty set D of reports.md §7.2–7.4 in SQL. D is the keys of
 * `report_dirty_key` and every day of every `report_dirty_range` row (a
 * change spanning more than 31 days, not yet expanded by the worker). The
 * expansion moves days from a range to keys in one commit, so in every
 * snapshot a day is in D through one or the other; every reader of D for
 * freshness, the check's skips and the lag reads both through these
 * fragments.
 */

/**
 * `EXISTS` a range of (project, site) holding `day`; each argument is an SQL
 * expression of the outer query (the fragments' own aliases start with
 * `dirty_`, so they never shadow it).
 */
export function rangeCovers(project: string, site: string, day: string): string {
  return `EXISTS (SELECT 1 FROM report_dirty_range dirty_r WHERE dirty_r.project_id = ${project} AND dirty_r.site = ${site} AND dirty_r.first_day <= ${day} AND dirty_r.last_day >= ${day})`;
}

/** Whether (project, site, day) is in D. */
export function isDirty(project: string, site: string, day: string): string {
  return `(EXISTS (SELECT 1 FROM report_dirty_key dirty_k WHERE dirty_k.project_id = ${project} AND dirty_k.site = ${site} AND dirty_k.day = ${day}) OR ${rangeCovers(project, site, day)})`;
}

/**
 * The scope of a count of D: local days [lo, hi] (SQL expressions of type
 * date; null for no bound) and a predicate on the alias `x` with columns
 * project_id and site (the same for keys and ranges).
 */
export interface DirtyScope {
  lo: string | null;
  hi: string | null;
  where: (alias: string) => string;
}

/**
 * The number of distinct (project, site, day) of D in `scope`, exactly:
 * the keys, plus the days of the ranges' islands (overlapping or adjacent
 * ranges of one (project, site) merged, clipped to the scope), less the
 * keys those islands hold. O(keys + ranges) whatever the ranges' length.
 */
export function dirtyCountSql(scope: DirtyScope): string {
  const lo = scope.lo ?? `'-infinity'::date`;
  const hi = scope.hi ?? `'infinity'::date`;
  // Unbounded ranges never occur (last_day is a real day), so clipping to ±infinity keeps them as they are.
  const l = `greatest(dirty_x.first_day, ${lo})`;
  const h = `least(dirty_x.last_day, ${hi})`;
  const keyIn = (a: string) => keyWhere(scope, a);
  return `(
    (SELECT count(*) FROM report_dirty_key dirty_k WHERE ${keyIn('dirty_k')})
    + (SELECT coalesce(sum(dirty_i.hi - dirty_i.lo + 1), 0) FROM (
        SELECT dirty_b.project_id, dirty_b.site, min(dirty_b.l) AS lo, max(dirty_b.h) AS hi FROM (
          SELECT dirty_a.project_id, dirty_a.site, dirty_a.l, dirty_a.h,
                 sum(CASE WHEN dirty_a.prev IS NULL OR dirty_a.l > dirty_a.prev + 1 THEN 1 ELSE 0 END)
                   OVER (PARTITION BY dirty_a.project_id, dirty_a.site ORDER BY dirty_a.l, dirty_a.h ROWS UNBOUNDED PRECEDING) AS grp
          FROM (
            SELECT dirty_x.project_id, dirty_x.site, ${l} AS l, ${h} AS h,
                   max(${h}) OVER (PARTITION BY dirty_x.project_id, dirty_x.site ORDER BY ${l}, ${h} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
            FROM report_dirty_range dirty_x WHERE ${rangeWhere(scope, 'dirty_x')}
          ) dirty_a
        ) dirty_b GROUP BY dirty_b.project_id, dirty_b.site, dirty_b.grp) dirty_i)
    - (SELECT count(*) FROM report_dirty_key dirty_k WHERE ${keyIn('dirty_k')} AND ${rangeCovers('dirty_k.project_id', 'dirty_k.site', 'dirty_k.day')})
  )::bigint`;
}

/** The oldest first_dirtied_at of D in `scope` (a range counts from its write), or null. */
export function dirtySinceSql(scope: DirtyScope): string {
  return `least(
    (SELECT min(dirty_k.first_dirtied_at) FROM report_dirty_key dirty_k WHERE ${keyWhere(scope, 'dirty_k')}),
    (SELECT min(dirty_x.first_dirtied_at) FROM report_dirty_range dirty_x WHERE ${rangeWhere(scope, 'dirty_x')}))`;
}

/** A key of alias `a` in the scope. */
function keyWhere(scope: DirtyScope, a: string): string {
  return [scope.lo && `${a}.day >= ${scope.lo}`, scope.hi && `${a}.day <= ${scope.hi}`, scope.where(a)].filter(Boolean).join(' AND ') || 'TRUE';
}

/** A range of alias `a` meeting the scope. */
function rangeWhere(scope: DirtyScope, a: string): string {
  return [scope.lo && `${a}.last_day >= ${scope.lo}`, scope.hi && `${a}.first_day <= ${scope.hi}`, scope.where(a)].filter(Boolean).join(' AND ') || 'TRUE';
}
