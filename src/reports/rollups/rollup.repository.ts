import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCount, runOne, runRows, Sql } from '../../database/query-result';
import { dayRange, KeyBounds, keysRelation, todayCellsSql, usageCellsSql } from './usage-sql';

/** The batch's first and last day ($6, $7) in the clock's zone ($4): partition bounds of the recomputations. */
const BOUNDS: KeyBounds = { firstDay: '$6', lastDay: '$7', tz: '$4' };

/** A (project, site, local day) key of the rollups. */
export interface CellKey {
  project_id: string;
  site: string;
  /** `YYYY-MM-DD`, a local day of the accounting zone. */
  day: string;
}

/** Where a claim of dirty keys ended: the last key's place in the claim order (`first_dirtied_at` as PostgreSQL's text). */
export interface ClaimPosition extends CellKey {
  at: string;
}

/**
 * Keys of the booked day (`bookedDay` and after: today cells) dirtied less
 * than `ms` ago are left for a later claim (`RollupDrainer.todaySettleMs`).
 */
export interface TodaySettle {
  bookedDay: string;
  ms: number;
}

/** A dirty key with its place in the claim order (`takeDirtyKeys`). */
const CLAIM_COLUMNS = `SELECT k.project_id, k.site, k.day::text AS day, k.first_dirtied_at::text AS at FROM report_dirty_key k`;

/** A usage day cell: quantity is an exact decimal string. */
export interface DayCell extends CellKey {
  meter: string;
  key: string;
  subkey: string;
  quantity: string;
  items: number;
}

export interface ClockRow {
  time_zone: string;
  cloud_site: string;
  booked_day: string;
  late_horizon_days: number;
}

/** What a month or site-day sum must change by: Σ quantity and the number of day cells. */
export interface CellDelta {
  project_id: string;
  site: string;
  day: string;
  meter: string;
  key: string;
  subkey: string;
  quantity: string;
  cells: number;
  /** The day cell's scale fell or it went away: the site-day sum's scale is recomputed from its day cells (`cellDeltas`). */
  rescale: boolean;
}

/** `withoutJit` as settings for `inSnapshot`. */
export const WITHOUT_JIT = ['SET LOCAL jit = off'] as const;

/**
 * The rollup tables (reports.md §7.1–7.2): dirty keys, day, today, month and
 * site-day cells, and the clock. Every method takes the transaction's
 * manager; the worker runs one batch per transaction.
 */
@Injectable()
export class RollupRepository {
  constructor(private readonly db: DataSource) {}

  async clock(sql: Sql = this.db): Promise<ClockRow | undefined> {
    return runOne<ClockRow>(sql, `SELECT time_zone, cloud_site, booked_day::text AS booked_day, late_horizon_days FROM report_clock WHERE id = 1`);
  }

  /**
   * VACUUM of report_dirty_key, outside any transaction (RollupDrainer.tick
   * after many drained keys). Every drained key leaves a dead row; with
   * autovacuum off they are never reclaimed, and a table emptied of 11.7M
   * keys stayed 673 MB, which the idle drain's claim read whole each second
   * in each worker (a sequential scan: 0.68 s a claim, at 20M versions;
   * docs/reports-benchmark.md). INDEX_CLEANUP ON removes the last dead
   * items too, so the emptied end of the table is truncated; SKIP_LOCKED
   * leaves the table to a VACUUM already running.
   */
  async vacuumDirtyKeys(): Promise<void> {
    await this.db.query('VACUUM (INDEX_CLEANUP ON, SKIP_LOCKED) report_dirty_key');
  }

  /**
   * Turns JIT compilation off for the transaction: the planner's row
   * estimates for the key relations (unnest, generate_series) are far too
   * high, and JIT would spend seconds compiling statements that run in
   * milliseconds.
   */
  async withoutJit(sql: Sql): Promise<void> {
    await sql.query(WITHOUT_JIT[0]);
  }

  /**
   * Up to `limit` dirty keys (and the rest of the last one's project and day),
   * oldest first, then by project and day, so a project's keys of one day at
   * every site come in one batch; locked; keys another worker holds are
   * skipped. With `after` (the position of an earlier claim's last key,
   * `ClaimPosition`), only keys after it in that order: the index is entered
   * there instead of walking from its start over the entries of every key
   * drained since the table was last vacuumed (a claim read 15,400 index
   * pages for 500 keys after 3M keys of a first build had been drained, half
   * of each batch's time, and growing with each batch). With `settle`, keys
   * of the booked day dirtied less than `settle.ms` ago are not taken.
   */
  async takeDirtyKeys(
    limit: number,
    sql: Sql,
    after: ClaimPosition | null = null,
    settle: TodaySettle | null = null,
  ): Promise<{ keys: CellKey[]; last: ClaimPosition | null }> {
    const params: unknown[] = [limit];
    const where: string[] = [];
    if (after) {
      params.push(after.at, after.project_id, after.day, after.site);
      where.push(`(k.first_dirtied_at, k.project_id, k.day, k.site) > ($2::timestamptz, $3::text, $4::date, $5::text)`);
    }
    if (settle && settle.ms > 0) {
      params.push(settle.bookedDay, settle.ms);
      where.push(`(k.day < $${params.length - 1}::date OR k.first_dirtied_at <= now() - $${params.length}::int * interval '1 millisecond')`);
    }
    const rows = await runRows<ClaimPosition>(
      sql,
      `${CLAIM_COLUMNS}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY k.first_dirtied_at, k.project_id, k.day, k.site
       LIMIT $1 FOR UPDATE SKIP LOCKED`,
      params,
    );
    const last = rows[rows.length - 1];
    // A full claim ends with the rest of its last (project, day) at other sites: split, that pair's lock would hold
    // another drain, which took the rest, for the whole of this batch.
    const rest =
      rows.length === limit
        ? await runRows<ClaimPosition>(
            sql,
            `${CLAIM_COLUMNS}
             WHERE k.first_dirtied_at = $1::timestamptz AND k.project_id = $2 AND k.day = $3::date AND k.site > $4
             ORDER BY k.site FOR UPDATE SKIP LOCKED`,
            [last.at, last.project_id, last.day, last.site],
          )
        : [];
    rows.push(...rest);
    return { keys: rows.map(({ project_id, site, day }) => ({ project_id, site, day })), last: rows[rows.length - 1] ?? null };
  }

  /**
   * The transaction-scoped advisory lock of every (project, day) of `keys`
   * (§7.2: the incremental path and the jobs share it), in one sorted order.
   */
  async lockProjectDays(keys: CellKey[], sql: Sql): Promise<void> {
    const pairs = [...new Set(keys.map((k) => `${k.project_id}\u0001${k.day}`))].sort();
    if (pairs.length === 0) return;
    await sql.query(
      `SELECT pg_advisory_xact_lock(hashtextextended(p, 7919)) FROM (SELECT p FROM unnest($1::text[]) AS u(p) ORDER BY p COLLATE "C") s`,
      [pairs],
    );
  }

  /** Day cells of `keys` recomputed from raw history (invariant I1), as they should be stored. */
  async recomputeDayCells(keys: CellKey[], clock: ClockRow, sql: Sql = this.db): Promise<DayCell[]> {
    if (keys.length === 0) return [];
    return runRows<DayCell>(
      sql,
      `SELECT project_id, site, day::text AS day, meter, key, subkey, quantity::text AS quantity, items
       FROM (${usageCellsSql(keysRelation('$4'), '$5', `'infinity'::timestamptz`, BOUNDS)}) c
       ORDER BY 1, 2, 3, 4, 5, 6`,
      [...keyArrays(keys), clock.time_zone, clock.cloud_site, ...dayRange(keys)],
    );
  }

  /** The stored day cells of `keys`. */
  async storedDayCells(keys: CellKey[], sql: Sql = this.db): Promise<DayCell[]> {
    if (keys.length === 0) return [];
    return runRows<DayCell>(
      sql,
      `SELECT c.project_id, c.site, c.day::text AS day, c.meter, c.key, c.subkey, c.quantity::text AS quantity, c.items
       FROM report_usage_day_cell c
       JOIN unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day)
         ON c.project_id = u.project_id AND c.site = u.site AND c.day = u.day
       ORDER BY 1, 2, 3, 4, 5, 6`,
      keyArrays(keys),
    );
  }

  /** Removes the stored day cells of `keys`, answering what the site-day sums hold for them (`summed`). */
  async deleteDayCells(keys: CellKey[], sql: Sql): Promise<DayCell[]> {
    if (keys.length === 0) return [];
    return runRows<DayCell>(
      sql,
      `DELETE FROM report_usage_day_cell c
       USING unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day)
       WHERE c.project_id = u.project_id AND c.site = u.site AND c.day = u.day
       RETURNING c.project_id, c.site, c.day::text AS day, c.meter, c.key, c.subkey, c.summed::text AS quantity, c.items`,
      keyArrays(keys),
    );
  }

  /** Stores the day cells of `keys` recomputed from raw, answering them. */
  async insertRecomputedDayCells(keys: CellKey[], clock: ClockRow, sql: Sql): Promise<DayCell[]> {
    if (keys.length === 0) return [];
    return runRows<DayCell>(
      sql,
      `INSERT INTO report_usage_day_cell (project_id, site, day, meter, key, subkey, quantity, items, summed)
       SELECT c.*, c.quantity FROM (${usageCellsSql(keysRelation('$4'), '$5', `'infinity'::timestamptz`, BOUNDS)}) c ORDER BY 1, 2, 3, 4, 5, 6
       RETURNING project_id, site, day::text AS day, meter, key, subkey, quantity::text AS quantity, items`,
      [...keyArrays(keys), clock.time_zone, clock.cloud_site, ...dayRange(keys)],
    );
  }

  /**
   * Replaces the today cells of `keys` (the booked day) by their
   * recomputation, and drops today cells of those (project, site) pairs left
   * from earlier days.
   */
  async replaceTodayCells(keys: CellKey[], clock: ClockRow, sql: Sql): Promise<void> {
    if (keys.length === 0) return;
    const arrays = keyArrays(keys);
    await sql.query(
      `DELETE FROM report_usage_today_cell c
       USING unnest($1::text[], $2::text[]) AS u(project_id, site)
       WHERE c.project_id = u.project_id AND c.site = u.site`,
      [arrays[0], arrays[1]],
    );
    await sql.query(
      `INSERT INTO report_usage_today_cell (project_id, site, day, meter, key, subkey, closed_part, open_weight, open_anchor, max_open_start, max_closed_end, items)
       SELECT * FROM (${todayCellsSql(keysRelation('$4'), '$5', BOUNDS)}) c ORDER BY 1, 2, 3, 4, 5, 6`,
      [...arrays, clock.time_zone, clock.cloud_site, ...dayRange(keys)],
    );
  }

  /** Drops today cells of `keys`' days (a day that is now booked keeps day cells only). */
  async deleteTodayCellsOf(keys: CellKey[], sql: Sql): Promise<void> {
    if (keys.length === 0) return;
    await sql.query(
      `DELETE FROM report_usage_today_cell c
       USING unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day)
       WHERE c.project_id = u.project_id AND c.site = u.site AND c.day = u.day`,
      keyArrays(keys),
    );
  }

  /**
   * Recomputes the month sums of `keys`' (project, site, month) from their
   * day cells (I3), under a transaction-scoped advisory lock per (project,
   * site, month) taken in sorted order after the (project, day) locks: two
   * workers changing days of one month take turns, and a month sum edited
   * by hand is mended by the next change of any of its days.
   */
  async recomputeMonthCells(keys: CellKey[], sql: Sql): Promise<void> {
    const months = [...new Set(keys.map((k) => `${k.project_id}\u0001${k.site}\u0001${k.day.slice(0, 7)}-01`))].sort();
    if (months.length === 0) return;
    const parts = months.map((m) => m.split('\u0001'));
    const params = [parts.map((p) => p[0]), parts.map((p) => p[1]), parts.map((p) => p[2])];
    await sql.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('month' || chr(1) || m, 7919)) FROM (SELECT m FROM unnest($1::text[]) AS u(m) ORDER BY m COLLATE "C") s`,
      [months],
    );
    const touched = `unnest($1::text[], $2::text[], $3::date[]) AS t(project_id, site, month)`;
    await sql.query(
      `DELETE FROM report_usage_month_cell m USING ${touched}
       WHERE m.project_id = t.project_id AND m.site = t.site AND m.month = t.month`,
      params,
    );
    await sql.query(
      `INSERT INTO report_usage_month_cell (project_id, site, month, meter, key, subkey, quantity, cells)
       SELECT d.project_id, d.site, t.month, d.meter, d.key, d.subkey, sum(d.quantity), count(*)::int
       FROM ${touched}
       JOIN report_usage_day_cell d
         ON d.project_id = t.project_id AND d.site = t.site AND d.day >= t.month AND d.day < (t.month + interval '1 month')::date
       GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`,
      params,
    );
  }

  /** Adds `deltas` to the site-day sums in key order, removing sums that hold no day cell any more. */
  async applySiteDayDeltas(deltas: CellDelta[], sql: Sql): Promise<void> {
    if (deltas.length === 0) return;
    const params = [
      deltas.map((d) => d.site),
      deltas.map((d) => d.day),
      deltas.map((d) => d.meter),
      deltas.map((d) => d.key),
      deltas.map((d) => d.subkey),
      deltas.map((d) => d.quantity),
      deltas.map((d) => d.cells),
    ];
    const source = `unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::int[])
                    AS d(site, day, meter, key, subkey, quantity, cells)`;
    await sql.query(
      `INSERT INTO report_usage_site_day_cell AS s (site, day, meter, key, subkey, quantity, cells)
       SELECT site, day, meter, key, subkey, sum(quantity), sum(cells)::int
       FROM ${source}
       GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
       ON CONFLICT (site, day, meter, key, subkey)
       DO UPDATE SET quantity = s.quantity + excluded.quantity, cells = s.cells + excluded.cells`,
      params,
    );
    await sql.query(
      `DELETE FROM report_usage_site_day_cell s USING ${source}
       WHERE s.cells = 0 AND s.site = d.site AND s.day = d.day AND s.meter = d.meter AND s.key = d.key AND s.subkey = d.subkey`,
      params,
    );
    // A charge's sum is written with the scale of the largest-scale charge in it (§1.4), which a sum kept by
    // differences cannot know once the cell that had it changed: those sums take the largest scale of their day
    // cells (read across projects, so only when a scale fell, which charges written with one scale never do).
    const rescaled = deltas.filter((d) => d.rescale);
    if (rescaled.length === 0) return;
    await sql.query(
      `UPDATE report_usage_site_day_cell s SET quantity = round(s.quantity, x.sc)
       FROM (SELECT u.*, (SELECT max(scale(c.quantity)) FROM report_usage_day_cell c
                          WHERE c.site = u.site AND c.day = u.day AND c.meter = u.meter AND c.key = u.key AND c.subkey = u.subkey) AS sc
             FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[]) AS d(site, day, meter, key, subkey)) u) x
       WHERE s.site = x.site AND s.day = x.day AND s.meter = x.meter AND s.key = x.key AND s.subkey = x.subkey AND scale(s.quantity) > x.sc`,
      [rescaled.map((d) => d.site), rescaled.map((d) => d.day), rescaled.map((d) => d.meter), rescaled.map((d) => d.key), rescaled.map((d) => d.subkey)],
    );
  }

  async deleteDirtyKeys(keys: CellKey[], sql: Sql): Promise<void> {
    if (keys.length === 0) return;
    await sql.query(
      `DELETE FROM report_dirty_key d
       USING unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day)
       WHERE d.project_id = u.project_id AND d.site = u.site AND d.day = u.day`,
      keyArrays(keys),
    );
  }

  /**
   * Expands up to `maxDays` days of the oldest dirty ranges into dirty keys
   * (the migration 1763801900000-ReportsDirtyRange's function); answers the
   * days expanded. The caller's transaction is the chunk.
   */
  async expandDirtyRanges(maxDays: number, sql: Sql): Promise<number> {
    const row = await runOne<{ n: number }>(sql, `SELECT report_dirty_range_expand($1::int) AS n`, [maxDays]);
    return Number(row?.n ?? 0);
  }

  /** Marks `keys` dirty (repairs, rebuilds); answers how many keys were written. */
  async markDirty(keys: CellKey[], sql: Sql = this.db): Promise<number> {
    if (keys.length === 0) return 0;
    return runCount(
      sql,
      `INSERT INTO report_dirty_key (project_id, site, day)
       SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::date[]) ORDER BY 1, 2, 3
       ON CONFLICT (project_id, site, day) DO UPDATE SET first_dirtied_at = report_dirty_key.first_dirtied_at`,
      keyArrays(keys),
    );
  }

  /**
   * Creates the clock at the first start (answering true), marking the
   * stored history dirty so the worker builds the rollups from nothing;
   * answers false when the clock already exists. The Almanach history is
   * marked as dirty ranges (§7.2, migration 1763801900000), one per island
   * of a project's overlapping or adjacent version spans, which the drainer
   * expands into keys in chunks: a start on years of history writes a few
   * rows per project instead of a key per project-day in its own
   * transaction (minutes, with the API not answering meanwhile). AMIE
   * records mark their one day each, as their trigger does.
   */
  async createClock(timeZone: string, cloudSite: string, sql: Sql): Promise<boolean> {
    const created = await runOne<{ id: number }>(
      sql,
      `INSERT INTO report_clock (id, time_zone, cloud_site, booked_day)
       VALUES (1, $1, $2, report_local_day(now(), $1)) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [timeZone, cloudSite],
    );
    if (!created) return false;
    await sql.query(
      `INSERT INTO report_dirty_range (project_id, site, first_day, last_day)
       SELECT g.project_id, g.site, min(g.lo), max(g.hi)
       FROM (
         SELECT a.project_id, a.site, a.lo, a.hi,
                sum(CASE WHEN a.prev IS NULL OR a.lo > a.prev + 1 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY a.project_id ORDER BY a.lo, a.hi ROWS UNBOUNDED PRECEDING) AS island
         FROM (
           SELECT v.project_id, c.cloud_site AS site, b.lo, b.hi,
                  max(b.hi) OVER (PARTITION BY v.project_id ORDER BY b.lo, b.hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
           FROM almanach_entity_version v CROSS JOIN report_clock c
           CROSS JOIN LATERAL report_span_bounds(v.start, v."end", c.time_zone, c.booked_day) AS b
         ) a
       ) g
       GROUP BY g.project_id, g.site, g.island`,
    );
    await sql.query(
      `INSERT INTO report_dirty_key (project_id, site, day)
       SELECT DISTINCT r.local_project_id, r.site, least(report_local_day(coalesce(r.usage_end, r.usage_start), c.time_zone), c.booked_day)
       FROM amie_usage_record r CROSS JOIN report_clock c
       WHERE coalesce(r.usage_end, r.usage_start) IS NOT NULL
       ON CONFLICT (project_id, site, day) DO NOTHING`,
    );
    return true;
  }

  async knownTimeZone(timeZone: string, sql: Sql = this.db): Promise<boolean> {
    return (await runOne(sql, `SELECT 1 FROM pg_timezone_names WHERE name = $1`, [timeZone])) !== undefined;
  }

  /**
   * The day roll (§7.2), when the booked day has ended: under the clock's
   * row lock, marks dirty the day just finished and the next one for every
   * project with a version or record there, and advances the booked day by
   * one. Answers the new booked day, or undefined when there was nothing to
   * roll.
   */
  async rollOneDay(sql: Sql): Promise<string | undefined> {
    const clock = await runOne<{ booked_day: string; time_zone: string; cloud_site: string; due: boolean }>(
      sql,
      `SELECT booked_day::text AS booked_day, time_zone, cloud_site, booked_day < report_local_day(now(), time_zone) AS due
       FROM report_clock WHERE id = 1 FOR UPDATE`,
    );
    if (!clock?.due) return undefined;
    await sql.query(
      `WITH b AS (
         SELECT report_day_start($1::date, $2) AS s, report_day_start($1::date + 2, $2) AS e
       ), p AS (
         SELECT v.project_id, $3::text AS site FROM almanach_entity_version v, b
         WHERE v.start < b.e AND coalesce(v."end", 'infinity') > b.s
         UNION
         SELECT r.local_project_id, r.site FROM amie_usage_record r, b
         WHERE coalesce(r.usage_end, r.usage_start) >= b.s AND coalesce(r.usage_end, r.usage_start) < b.e
       )
       INSERT INTO report_dirty_key (project_id, site, day)
       SELECT p.project_id, p.site, d.day FROM p CROSS JOIN (VALUES ($1::date), ($1::date + 1)) AS d(day)
       ORDER BY 1, 2, 3
       ON CONFLICT (project_id, site, day) DO UPDATE SET first_dirtied_at = report_dirty_key.first_dirtied_at`,
      [clock.booked_day, clock.time_zone, clock.cloud_site],
    );
    const next = await runOne<{ booked_day: string }>(
      sql,
      `UPDATE report_clock SET booked_day = booked_day + 1, updated_at = now() WHERE id = 1 RETURNING booked_day::text AS booked_day`,
    );
    return next?.booked_day;
  }
}

/** The columns of `keys` as parameters of `unnest($n::text[], $m::text[], $k::date[])`. */
export function keyArrays(keys: CellKey[]): [string[], string[], string[]] {
  return [keys.map((k) => k.project_id), keys.map((k) => k.site), keys.map((k) => k.day)];
}
