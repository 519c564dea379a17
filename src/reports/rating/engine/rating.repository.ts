import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../../database/query-result';
import { CellKey, keyArrays } from '../../rollups/rollup.repository';
import { flavorOf } from '../../rollups/usage-sql';

/** What one `rate` call changed (reports.md 4.6): counts, and Σ live cost after − before per currency (numeric text). */
export interface RatedChanges {
  /** Rated cells whose live value changed: new, different, or gone. */
  changed: number;
  /** Live rated cells taken out of the live set (kept superseded on a job's run, deleted on the incremental path). */
  retired: number;
  costDelta: Record<string, string>;
}

/** One I4 difference of a rated day cell (costs as text; null: no cell on that side). */
export interface RatedMismatch {
  project_id: string;
  site: string;
  day: string;
  meter: string;
  key: string;
  subkey: string;
  price_list_id: string;
  stored: string | null;
  recomputed: string | null;
  stored_item: string | null;
  recomputed_item: string | null;
}

/**
 * The rated day cells the usage day cells of keys ($1, $2, $3) should have
 * now (§4.5): every stored meter and the derived instance meters, each with
 * the list that applies to its project in each currency ($4: only these
 * currencies; null: all), and the item of that list for its day; cells with
 * no item have no rated cell. `key` is the stored string; items are matched
 * on the catalogue name.
 *
 * Set-based, and with plans that do not depend on the tables' statistics
 * (a job fills report_rated_day_cell from nothing, and autovacuum may be off):
 * each key's usage cells are read by its own index probe (`OFFSET 0` keeps
 * the LATERAL a nested loop), the flavor of each distinct stored key is looked
 * up once, and the item once per (list, meter, key, subkey, day) of the keys
 * (`report_price_item_at`) instead of once per cell.
 */
const FRESH = `
  k AS MATERIALIZED (SELECT DISTINCT u.project_id, u.site, u.day FROM unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day)),
  lists AS MATERIALIZED (
    SELECT p.project_id, l.id AS price_list_id, c.currency
    FROM (SELECT DISTINCT project_id FROM k) p
    CROSS JOIN (SELECT DISTINCT currency FROM report_price_list WHERE $4::text[] IS NULL OR currency = ANY($4::text[])) c
    CROSS JOIN LATERAL (
      SELECT coalesce(
        (SELECT lp.price_list_id FROM report_price_list_project lp WHERE lp.project_id = p.project_id AND lp.currency = c.currency),
        (SELECT d.id FROM report_price_list d WHERE d.currency = c.currency AND d.project_ids = '{}')) AS id
    ) l
    WHERE l.id IS NOT NULL
  ),
  stored AS MATERIALIZED (
    SELECT u.* FROM k
    CROSS JOIN LATERAL (
      SELECT c.project_id, c.site, c.day, c.meter, c.key, c.subkey, c.quantity FROM report_usage_day_cell c
      WHERE c.project_id = k.project_id AND c.site = k.site AND c.day = k.day OFFSET 0
    ) u
    WHERE EXISTS (SELECT 1 FROM lists l WHERE l.project_id = k.project_id)
  ),
  flavors AS MATERIALIZED (
    SELECT s.meter, s.key, fl.name AS fname, fl.vcpus, fl.ram_mb, fl.disk_gb
    FROM (SELECT DISTINCT meter, key FROM stored WHERE meter LIKE 'instance.%') s
    CROSS JOIN ${flavorOf('s.meter', 's.key')}
  ),
  cells AS (
    SELECT u.project_id, u.site, u.day, u.meter, u.key, u.subkey, u.quantity, f.fname, f.vcpus, f.ram_mb, f.disk_gb
    FROM stored u LEFT JOIN flavors f ON f.meter = u.meter AND f.key = u.key
  ),
  metered AS MATERIALIZED (
    SELECT project_id, site, day, meter, key, CASE WHEN meter = 'instance.time' THEN coalesce(fname, key) ELSE key END AS mkey, subkey, quantity FROM cells
    UNION ALL SELECT project_id, site, day, 'instance.vcpu', key, fname, subkey, quantity * vcpus FROM cells WHERE fname IS NOT NULL
    UNION ALL SELECT project_id, site, day, 'instance.ram', key, fname, subkey, quantity * ram_mb FROM cells WHERE fname IS NOT NULL
    UNION ALL SELECT project_id, site, day, 'instance.disk', key, fname, subkey, quantity * disk_gb FROM cells WHERE fname IS NOT NULL
  ),
  picks AS MATERIALIZED (
    SELECT c.price_list_id, c.meter, c.mkey, c.subkey, c.day, i.id AS item_id, i.unit_price, i.price_unit
    FROM (SELECT DISTINCT l.price_list_id, m.meter, m.mkey, m.subkey, m.day FROM metered m JOIN lists l ON l.project_id = m.project_id) c
    CROSS JOIN LATERAL report_price_item_at(c.price_list_id, c.day, c.meter, c.mkey, c.subkey) i
  ),
  fresh AS MATERIALIZED (
    SELECT m.project_id, m.site, m.day, m.meter, m.key, m.subkey, l.price_list_id, l.currency,
           p.item_id, p.unit_price, p.price_unit, m.quantity, report_rated_cost(p.unit_price, m.quantity, p.price_unit) AS cost
    FROM metered m JOIN lists l ON l.project_id = m.project_id
    JOIN picks p ON p.price_list_id = l.price_list_id AND p.meter = m.meter AND p.mkey = m.mkey AND p.subkey = m.subkey AND p.day = m.day
  ),
  live AS MATERIALIZED (
    SELECT r.* FROM k
    CROSS JOIN LATERAL (
      SELECT r.* FROM report_rated_day_cell r
      WHERE r.project_id = k.project_id AND r.site = k.site AND r.day = k.day AND r.superseded_by IS NULL
        AND ($4::text[] IS NULL OR r.currency = ANY($4::text[])) OFFSET 0
    ) r
  )`;

/** A live rated cell `l` and its recomputation `f`: the same cell (first) with the same figures (both). */
const SAME_CELL = `f.project_id = l.project_id AND f.site = l.site AND f.day = l.day AND f.meter = l.meter AND f.key = l.key
          AND f.subkey = l.subkey AND f.price_list_id = l.price_list_id`;
const SAME_FIGURES = `f.item_id = l.item_id AND f.unit_price = l.unit_price AND f.price_unit = l.price_unit AND f.quantity = l.quantity AND f.cost = l.cost`;
const CELL_COLUMNS = 'project_id, site, day, meter, key, subkey, price_list_id';
const MONTH_KEY = ['project_id', 'site', 'month', 'meter', 'key', 'subkey', 'price_list_id'];

/**
 * The rated cells (reports.md §4.5, §7.1): rated day cells recomputed from
 * the usage day cells and the live price items, and their month and
 * site-day sums kept by delta. Every method takes the transaction's manager.
 */
@Injectable()
export class RatingRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Recomputes the rated day cells of `keys` (in `currencies`, null: all)
   * in one statement: every live cell that differs from its recomputation
   * (item, price, quantity or cost) or has none leaves the live set (kept
   * with `superseded_by` = `run` when `supersede`, else deleted); every
   * recomputed cell with no equal live cell is inserted (`rating_run` =
   * `run`); the month sums (project, site, month, …) and site-day sums
   * (site, day, …) move by the difference, in key order. A month's `item_id`
   * follows from its cells before and the change where that decides it (all
   * old cells gone: the new cells' one item; one item before and only that
   * item added: kept; otherwise null), and is recomputed from the live day
   * cells only where it cannot (several items before and some taken out).
   * Sums left with no cell are removed.
   */
  async rate(keys: CellKey[], currencies: string[] | null, run: string, supersede: boolean, sql: Sql): Promise<RatedChanges> {
    if (keys.length === 0) return { changed: 0, retired: 0, costDelta: {} };
    const retire = supersede
      ? `UPDATE report_rated_day_cell r SET superseded_by = $5::text, superseded_at = now() WHERE r.id = ANY (ARRAY(SELECT id FROM stale))`
      : `DELETE FROM report_rated_day_cell r WHERE r.id = ANY (ARRAY(SELECT id FROM stale))`;
    const monthKey = MONTH_KEY.join(', ');
    const rows = await runRows<{ currency: string | null; cost: string | null; changed: number; retired: number; months: string | null }>(
      sql,
      `WITH ${FRESH},
       -- A FULL JOIN is a hash or merge join whatever the estimates (a CTE's are poor): each cell compared once.
       diff AS MATERIALIZED (
         SELECT l.id AS live_id, f.*, coalesce(${SAME_FIGURES}, false) AS same
         FROM live l FULL JOIN fresh f ON ${SAME_CELL}),
       stale AS (SELECT live_id AS id FROM diff WHERE live_id IS NOT NULL AND NOT same),
       gone AS (${retire} RETURNING r.${CELL_COLUMNS.replace(/, /g, ', r.')}, r.currency, r.item_id, r.quantity, r.cost),
       added AS (
         INSERT INTO report_rated_day_cell (${CELL_COLUMNS}, currency, item_id, unit_price, price_unit, quantity, cost, rating_run)
         SELECT f.project_id, f.site, f.day, f.meter, f.key, f.subkey, f.price_list_id, f.currency, f.item_id, f.unit_price, f.price_unit, f.quantity, f.cost, $5::text
         FROM diff f
         WHERE f.project_id IS NOT NULL AND NOT f.same
           -- the live cells they replace leave the live set first (the live unique index)
           AND (SELECT count(*) FROM gone) >= 0
         ORDER BY 1, 2, 3, 4, 5, 6, 7
         RETURNING ${CELL_COLUMNS}, currency, item_id, quantity, cost),
       changes AS (
         SELECT ${CELL_COLUMNS}, currency, item_id, -quantity AS quantity, -cost AS cost, -1 AS cells FROM gone
         UNION ALL SELECT ${CELL_COLUMNS}, currency, item_id, quantity, cost, 1 FROM added),
       month_deltas AS MATERIALIZED (
         SELECT project_id, site, date_trunc('month', day)::date AS month, meter, key, subkey, price_list_id, min(currency) AS currency,
                sum(quantity) AS quantity, sum(cost) AS cost, sum(cells)::int AS cells, count(*) FILTER (WHERE cells < 0)::int AS gone,
                CASE WHEN min(item_id) FILTER (WHERE cells > 0) = max(item_id) FILTER (WHERE cells > 0) THEN min(item_id) FILTER (WHERE cells > 0) END AS added_item,
                count(*) FILTER (WHERE cells > 0)::int AS added
         FROM changes GROUP BY 1, 2, 3, 4, 5, 6, 7),
       months AS (
         INSERT INTO report_rated_month_cell AS m (${monthKey}, currency, quantity, cost, cells, item_id)
         SELECT ${monthKey}, currency, quantity, cost, cells, added_item FROM month_deltas ORDER BY 1, 2, 3, 4, 5, 6, 7
         ON CONFLICT (${monthKey}) DO UPDATE SET quantity = m.quantity + excluded.quantity, cost = m.cost + excluded.cost, cells = m.cells + excluded.cells),
       site_days AS (
         INSERT INTO report_rated_site_day_cell AS s (site, day, meter, key, subkey, price_list_id, currency, quantity, cost, cells)
         SELECT site, day, meter, key, subkey, price_list_id, min(currency), sum(quantity), sum(cost), sum(cells)::int
         FROM changes GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
         ON CONFLICT (site, day, meter, key, subkey, price_list_id)
         DO UPDATE SET quantity = s.quantity + excluded.quantity, cost = s.cost + excluded.cost, cells = s.cells + excluded.cells)
       SELECT c.currency, c.cost::text AS cost, (SELECT count(*) FROM (SELECT DISTINCT ${CELL_COLUMNS} FROM changes) x)::int AS changed,
              (SELECT count(*) FROM gone)::int AS retired,
              (SELECT json_agg(json_build_object(${[...MONTH_KEY, 'cells', 'gone', 'added', 'added_item'].map((c) => `'${c}', ${c}`).join(', ')})) FROM month_deltas)::text AS months
       FROM (SELECT 1) one LEFT JOIN (SELECT currency, sum(cost) AS cost FROM changes GROUP BY currency) c ON TRUE
       ORDER BY c.currency COLLATE "C"`,
      [...keyArrays(keys), currencies, run],
    );
    const first = rows[0];
    if (first.changed === 0) return { changed: 0, retired: 0, costDelta: {} };
    await this.settleSums(keys, first.months ?? '[]', sql);
    const costDelta: Record<string, string> = {};
    for (const row of rows) if (row.currency !== null) costDelta[row.currency] = row.cost!;
    return { changed: first.changed, retired: first.retired, costDelta };
  }

  /**
   * After `rate` changed cells of `keys`, with `months` its month deltas
   * (JSON: key, cells, gone, added, added_item): sets each month sum's
   * `item_id` from its cells before and the change where that decides it
   * (all old cells gone: the new cells' one item; one item before and only
   * that item added: kept; otherwise null), recomputes it from the live day
   * cells only where it cannot (several items before, some taken out, some
   * left), and removes the month and site-day sums left with no cell. The
   * rows are locked already (`rate` moved their sums).
   */
  private async settleSums(keys: CellKey[], months: string, sql: Sql): Promise<void> {
    const deltas = `json_to_recordset($1::json) AS d(project_id text, site text, month date, meter text, key text, subkey text, price_list_id text,
                    cells int, gone int, added int, added_item text)`;
    const on = MONTH_KEY.map((c) => `m.${c} = d.${c}`).join(' AND ');
    // m.cells − d.cells: the cells before the change; m.item_id: the item before (rate leaves it; a new sum has d's).
    const item = `CASE WHEN m.cells - d.cells = d.gone THEN d.added_item
                       WHEN m.item_id IS NOT NULL AND (d.added = 0 OR d.added_item = m.item_id) THEN m.item_id END`;
    const unsure = await runOne<{ n: number }>(
      sql,
      `WITH unsure AS (SELECT count(*)::int AS n FROM ${deltas} JOIN report_rated_month_cell m ON ${on}
                       WHERE m.item_id IS NULL AND d.gone > 0 AND m.cells - d.cells > d.gone AND m.cells > 0),
       items AS (UPDATE report_rated_month_cell m SET item_id = ${item} FROM ${deltas} WHERE ${on} AND m.item_id IS DISTINCT FROM ${item})
       SELECT n FROM unsure`,
      [months],
    );
    await sql.query(`DELETE FROM report_rated_month_cell m USING ${deltas} WHERE ${on} AND m.cells = 0`, [months]);
    await sql.query(
      `DELETE FROM report_rated_site_day_cell s USING (SELECT DISTINCT site, day FROM unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day)) t
       WHERE s.cells = 0 AND s.site = t.site AND s.day = t.day`,
      keyArrays(keys),
    );
    if (unsure!.n === 0) return;
    // The one item of each such month sum, from its live day cells: one pass over each touched (project, site, month).
    await sql.query(
      `WITH t AS (SELECT DISTINCT d.project_id, d.site, d.month FROM ${deltas} WHERE d.gone > 0 OFFSET 0),
       items AS (
         SELECT c.project_id, c.site, t.month, c.meter, c.key, c.subkey, c.price_list_id,
                CASE WHEN min(c.item_id) = max(c.item_id) THEN min(c.item_id) END AS item_id
         FROM t CROSS JOIN LATERAL (
           SELECT * FROM report_rated_day_cell c
           WHERE c.project_id = t.project_id AND c.site = t.site AND c.day >= t.month AND c.day < (t.month + interval '1 month')::date
             AND c.superseded_by IS NULL OFFSET 0) c
         GROUP BY 1, 2, 3, 4, 5, 6, 7
       )
       UPDATE report_rated_month_cell m SET item_id = i.item_id FROM items i
       WHERE m.item_id IS NULL AND i.item_id IS NOT NULL AND m.project_id = i.project_id AND m.site = i.site AND m.month = i.month
         AND m.meter = i.meter AND m.key = i.key AND m.subkey = i.subkey AND m.price_list_id = i.price_list_id`,
      [months],
    );
  }

  /**
   * I4 (reports.md 7.4) for `keys`: every live rated cell that differs from
   * §4.5 applied to its usage cell and today's live items (item, price,
   * quantity or cost), every live rated cell with no recomputation, and
   * every recomputation with no live cell; `stored`/`recomputed` are the
   * costs (null: no cell).
   */
  async ratedMismatches(keys: CellKey[], sql: Sql): Promise<RatedMismatch[]> {
    if (keys.length === 0) return [];
    return runRows<RatedMismatch>(
      sql,
      `WITH ${FRESH}
       SELECT coalesce(l.project_id, f.project_id) AS project_id, coalesce(l.site, f.site) AS site, coalesce(l.day, f.day)::text AS day,
              coalesce(l.meter, f.meter) AS meter, coalesce(l.key, f.key) AS key, coalesce(l.subkey, f.subkey) AS subkey,
              coalesce(l.price_list_id, f.price_list_id) AS price_list_id, l.cost::text AS stored, f.cost::text AS recomputed,
              l.item_id AS stored_item, f.item_id AS recomputed_item
       FROM live l FULL JOIN fresh f
         ON f.project_id = l.project_id AND f.site = l.site AND f.day = l.day AND f.meter = l.meter AND f.key = l.key
        AND f.subkey = l.subkey AND f.price_list_id = l.price_list_id
       WHERE l.id IS NULL OR f.item_id IS NULL OR f.item_id <> l.item_id OR f.unit_price <> l.unit_price OR f.price_unit <> l.price_unit
          OR f.quantity <> l.quantity OR f.cost <> l.cost
       ORDER BY 1, 2, 3, 4, 5, 6, 7`,
      [...keyArrays(keys), null],
    );
  }

  /**
   * I4's sums for the local days [first, end): rated month cells (months
   * starting in the window) against the Σ of their live rated day cells, and
   * (without projects) rated site-day cells against the Σ over projects;
   * answers how many differ.
   */
  async ratedSumMismatches(first: string, end: string, projects: string[] | null, sql: Sql): Promise<number> {
    const months = await runOne<{ n: number }>(
      sql,
      `WITH d AS (
         SELECT project_id, site, date_trunc('month', day)::date AS month, meter, key, subkey, price_list_id, sum(quantity) AS quantity, sum(cost) AS cost, count(*)::int AS cells
         FROM report_rated_day_cell
         WHERE superseded_by IS NULL AND day >= date_trunc('month', $1::date) AND day < $2::date AND ($3::text[] IS NULL OR project_id = ANY($3::text[]))
         GROUP BY 1, 2, 3, 4, 5, 6, 7
       ), m AS (
         SELECT * FROM report_rated_month_cell
         WHERE month >= date_trunc('month', $1::date) AND month < $2::date AND ($3::text[] IS NULL OR project_id = ANY($3::text[]))
       )
       SELECT count(*)::int AS n FROM m FULL JOIN d
         ON d.project_id = m.project_id AND d.site = m.site AND d.month = m.month AND d.meter = m.meter AND d.key = m.key
        AND d.subkey = m.subkey AND d.price_list_id = m.price_list_id
       WHERE coalesce(d.month, m.month) >= $1::date AND (date_trunc('month', coalesce(d.month, m.month)) + interval '1 month')::date <= $2::date
         AND (m.project_id IS NULL OR d.project_id IS NULL OR m.cost <> d.cost OR m.quantity <> d.quantity OR m.cells <> d.cells)`,
      [first, end, projects],
    );
    if (projects !== null) return months!.n;
    const days = await runOne<{ n: number }>(
      sql,
      `WITH d AS (
         SELECT site, day, meter, key, subkey, price_list_id, sum(quantity) AS quantity, sum(cost) AS cost, count(*)::int AS cells
         FROM report_rated_day_cell WHERE superseded_by IS NULL AND day >= $1::date AND day < $2::date
         GROUP BY 1, 2, 3, 4, 5, 6
       ), s AS (SELECT * FROM report_rated_site_day_cell WHERE day >= $1::date AND day < $2::date)
       SELECT count(*)::int AS n FROM s FULL JOIN d
         ON d.site = s.site AND d.day = s.day AND d.meter = s.meter AND d.key = s.key AND d.subkey = s.subkey AND d.price_list_id = s.price_list_id
       WHERE s.site IS NULL OR d.site IS NULL OR s.cost <> d.cost OR s.quantity <> d.quantity OR s.cells <> d.cells`,
      [first, end],
    );
    return months!.n + days!.n;
  }

  /** The currency of a price list, or undefined when it does not exist. */
  async listCurrency(priceListId: string, sql: Sql = this.db): Promise<string | undefined> {
    return (await runOne<{ currency: string }>(sql, `SELECT currency FROM report_price_list WHERE id = $1`, [priceListId]))?.currency;
  }

  /** Whether any price list exists in `currency` (reports.md 3.1: a currency with none is a 400). */
  async currencyHasList(currency: string, sql: Sql = this.db): Promise<boolean> {
    return (await runOne(sql, `SELECT 1 FROM report_price_list WHERE currency = $1 LIMIT 1`, [currency])) !== undefined;
  }
}
