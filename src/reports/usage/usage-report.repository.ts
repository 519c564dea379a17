import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Sql } from '../../database/query-result';
import { runPrepared } from '../../database/prepared';
import { AMIE_INSTANT, AMIE_METERS, FLAVOR_KEYS } from '../rollups/usage-sql';
import { dirtyCountSql, DirtyScope, dirtySinceSql } from '../rollups/dirty-sql';
import { finerLevel, ReportLevel } from '../report-level';
import { UTC_MICROS } from '../window/window.repository';
import { quantityHoursSql, unitSql } from './units';
import { applicableListId } from '../rating/price-lists/applicable-list-sql';
import { adjustmentLinesSql, frozenCellsSql, inClosedPeriod, LineSelection } from '../rating/periods/period-lines-sql';

/**
 * The settings of a report's transaction (`inSnapshot`): no JIT (RollupRepository.withoutJit says why), and
 * generic plans for every parameterised statement the transaction runs (the report and its
 * freshness, prepared per connection; the window's small statements too). The report's text
 * carries its shape only (no `$n IS NULL OR …`), so one plan serves every call of a shape; planned
 * per call it cost 5–7 ms of a one-project month's 8–10 ms in the database, generic it runs in
 * 2–4 ms. PostgreSQL's own choice (`auto`) kept planning per call. Measured on the reports bench
 * database for seven shapes (project and fleet, month, day, year by day, unaligned, current
 * month), priced and not: generic was as fast or faster for each, with the same answers
 * (docs/reports-benchmark.md). A generic plan keeps every history partition and prunes when it
 * starts: its size and start-up grow with the months of history (measured with 30 partitions).
 */
export const REPORT_SETTINGS = ['SET LOCAL jit = off', 'SET LOCAL plan_cache_mode = force_generic_plan'] as const;

/**
 * `REPORT_SETTINGS` for a JSON page (`aggregate`): no sort where hashing can
 * do (`hashedRes` says why). The page's keyset order still sorts (nothing
 * else can give it). A prepared plan keeps the settings of its first call
 * on a connection: where budgets' accrued-today (which runs `aggregate`
 * without them) asks first, that connection may group by sorting, with the
 * same answer.
 */
export const PAGE_SETTINGS = [...REPORT_SETTINGS, 'SET LOCAL enable_sort = off'] as const;

export type Granularity = 'total' | 'day' | 'month';
export type GroupColumn = 'project_id' | 'site' | 'source' | 'key' | 'subkey';

/** Everything the aggregate query needs; list filters are null when absent. */
export interface UsageQuery {
  start: string;
  end: string;
  asOf: string;
  /** Zone of buckets and labels (the query's `tz`). */
  tz: string;
  period: string | null;
  granularity: Granularity;
  groupBy: GroupColumn[];
  projects: string[] | null;
  sites: string[] | null;
  sources: string[] | null;
  meters: string[] | null;
  flavors: string[] | null;
  volumeTypes: string[] | null;
  resources: string[] | null;
  recordTypes: string[] | null;
  /** Price the rows in this currency (§3.1, §4.5); null: no cost columns. */
  currency: string | null;
  /** Fleet totals may be read from site-day cells: no project grouped or filtered, not a `user` (§1.3). */
  siteCells: boolean;
  /** `view` and `lines` (§3.1, §5.3): frozen or live days of closed periods, usage and adjustment lines. */
  lines: LineSelection;
  /** The sort key of the last row of the previous page, or null for the first page. */
  after: (string | boolean)[] | null;
  limit: number;
  /** Only the first `count` buckets starting at or after `from` (k1 of a sort key; null: the first), for `bucketSlicePage`; absent: every bucket. */
  bucketSlice?: { from: string | null; count: number };
}

/** One line of the report as answered (§3.1; a CSV line is the same with `currency`). */
export interface UsageLine {
  /** Millisecond instants (`isoMillis`). */
  period_start: string;
  period_end: string;
  period: string | null;
  line_type: 'usage' | 'adjustment';
  /** `YYYY-MM` of the closed period an adjustment corrects; null for usage. */
  applies_to_period: string | null;
  project_id: string | null;
  site: string | null;
  source: string;
  meter: string;
  key: string | null;
  subkey: string | null;
  unit: string;
  quantity: string;
  /** Six digits half-even for units in seconds (`quantityHours`); null otherwise. */
  quantity_hours: string | null;
  unsized: boolean;
  /** The item's price when exactly one price item rated the row (§3.1); null otherwise or without a currency. */
  unit_price: string | null;
  price_unit: string | null;
  /** Σ of the row's rated cell costs when every cell of it is priced; null otherwise. */
  cost: string | null;
  /** Whether every cell of the row is priced; null without a currency. */
  priced: boolean | null;
}

export interface UsageTotal {
  meter: string;
  quantity: string;
}

export interface UsageAnswer {
  /** The page's lines (UsageLine) as JSON text, in keyset order. */
  rows: string;
  row_count: number;
  /** The keyset sort key of the page's last line when more lines follow (opaque, echoed back in `after`); null at the end. */
  next_key: (string | boolean)[] | null;
  totals: UsageTotal[];
  /** Flavor strings of the result missing from the catalogue. */
  unsized_keys: string[];
  /** Every (meter, key) of the result with usage no price item covers (with a currency), for the warnings. */
  unpriced_keys: [string, string][];
  /** Σ cost of the priced rows (six digits; null when no row is priced) and whether every row is priced; null fields without a currency. */
  cost_totals: { cost: string | null; complete: boolean | null };
  /** The finest cell level the answer read (ReportLevel). */
  level: ReportLevel;
  /** How many buckets the statement read (all of the window's, or those of its `bucketSlice`). */
  bucket_count: number;
  /** The accounting zone (report_clock) of the snapshot. */
  zone: string;
}

export interface Freshness {
  pending_cells: number;
  lag_seconds: number;
  booked_day: string;
  /** The last accounting day the window's figures reach. */
  last_day: string;
}

const TIME_METERS = ['instance.time', 'instance.vcpu', 'instance.ram', 'instance.disk', 'volume.size', 'amie.node_time', 'amie.core_time'];

/**
 * The usage report (reports.md §3.1) in one statement over the rollups
 * (§7.1): the window is cut into buckets of the query's zone, each bucket
 * into accounting days, and each piece read from the coarsest level that
 * answers it exactly — month cells for whole months, day cells for whole
 * booked days, site-day cells for fleet figures, the today cell for
 * [H, as_of), raw history for cut days. Flavors are mapped through the
 * catalogue and derived meters multiplied in at read time (§2.1).
 */
@Injectable()
export class UsageReportRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The report as a WITH clause ending in `res`: one row per (bucket,
   * group, meter) with its sort columns k1…k14, and `f`, the metered rows
   * before grouping; grouped as `grouping` says (`sortedRes`, `hashedRes`).
   * Parameters are added to `p`.
   */
  private reportCte(q: UsageQuery, p: Params, grouping: Grouping): { cte: string; timeMeters: string; level: string; unsizedKeys: string; adjustments: string } {
    const ws = p.add(q.start, 'timestamptz');
    const we = p.add(q.end, 'timestamptz');
    const asOf = p.add(q.asOf, 'timestamptz');
    // A list filter that is absent leaves no trace in the text (no `$n IS NULL OR …`): the
    // statement then has one plan per shape whatever the values, which lets it be prepared once
    // per connection and planned generically (see `aggregate`).
    const list = (values: string[] | null) => (values === null ? null : p.add(values, 'text[]'));
    const projects = list(q.projects);
    const sites = list(q.sites);
    const sources = list(q.sources);
    const meters = list(q.meters);
    const flavors = list(q.flavors);
    const volumeTypes = list(q.volumeTypes);
    const resources = list(q.resources);
    const recordTypes = list(q.recordTypes);
    const timeMeters = p.add(TIME_METERS, 'text[]');
    const currency = q.currency === null ? null : p.add(q.currency, 'text');

    const anyOf = (param: string | null, test: string) => (param === null ? 'TRUE' : `(${test})`);
    const projectOk = (col: string) => anyOf(projects, `${col} = ANY(${projects})`);
    const siteOk = (col: string) => anyOf(sites, `${col} = ANY(${sites})`);
    const wantsAlmanach = anyOf(sources, `${sources} && ARRAY['instance', 'volume']`);
    const entityOk = anyOf(sources, `v.entity_type = ANY(${sources})`);
    const wantsAmie = anyOf(sources, `'amie' = ANY(${sources})`);
    const weight = `CASE v.entity_type WHEN 'instance' THEN 1 ELSE coalesce(v.size, 0) END`;
    const almMeter = `CASE v.entity_type WHEN 'instance' THEN 'instance.time' ELSE 'volume.size' END`;
    const almKey = `CASE v.entity_type WHEN 'instance' THEN coalesce(v.flavor, '') ELSE coalesce(v.volume_type, '') END`;
    const grouped = (col: GroupColumn) => q.groupBy.includes(col);
    const pick = (col: GroupColumn) => (grouped(col) ? `f.${col}` : `NULL::text`);
    // Whether any piece is read from raw history: a statement-wide (uncorrelated) condition, so the
    // planner puts it above each raw branch as a one-time filter and a report of whole booked days
    // never starts those scans. Without it the planner may scan every version of the fleet against
    // an empty list of cut days (its estimate of `classified` cannot know the list is empty): 4.4 s at
    // 1M versions for a fleet month of whole days. The constant bounds beside it (the window, as
    // parameters) let the planner prune history partitions before the join (§7.3).
    const todayRaw = `(EXISTS (SELECT 1 FROM classified WHERE kind = 'today') AND EXISTS (SELECT 1 FROM today_bad))`;
    const rawNeeded = `(EXISTS (SELECT 1 FROM classified WHERE kind = 'raw') OR ${todayRaw})`;

    // The same for the Almanach raw branch, less the cut days `cutDayPiecesSql` answers: a fleet report whose cut
    // days all have exact cells then never starts the scan of every version live in its window.
    const rawAlmanachPiece = (x: string) => `${x}.kind = 'raw' AND NOT EXISTS (SELECT 1 FROM cut_days f WHERE f.bucket = ${x}.bucket AND f.day = ${x}.day)`;
    const almanachRawNeeded = `(EXISTS (SELECT 1 FROM classified x WHERE ${rawAlmanachPiece('x')}) OR ${todayRaw})`;

    // The query's filters on a metered row (meter, key, subkey): what `f` keeps.
    const filters = `${anyOf(meters, `meter = ANY(${meters})`)}
          AND ${anyOf(sources, `split_part(meter, '.', 1) = ANY(${sources})`)}
          AND ${anyOf(flavors, `meter LIKE 'instance.%' AND key = ANY(${flavors})`)}
          AND ${anyOf(volumeTypes, `meter = 'volume.size' AND key = ANY(${volumeTypes})`)}
          AND ${anyOf(resources, `meter LIKE 'amie.%' AND key = ANY(${resources})`)}
          AND ${anyOf(recordTypes, `meter LIKE 'amie.%' AND subkey = ANY(${recordTypes})`)}`;

    // The adjustment lines (bucket, project_id, …): in `lines`, and read alone by `projectSlice`.
    const adjustments = adjustmentLinesSql(q.lines.adjustments, projectOk, siteOk, currency);

    const cte = `
      WITH clock AS (
        SELECT time_zone AS atz, cloud_site AS cloud, booked_day AS booked, report_day_start(booked_day, time_zone) AS h
        FROM report_clock WHERE id = 1
      ),
      w AS (SELECT ${ws} AS ws, ${we} AS we, least(${we}, ${asOf}) AS we_cut, ${asOf} AS as_of),
      buckets AS (${bucketsSql(q, p)}),
      pieces AS (
        SELECT b.bucket, d.day::date AS day,
               greatest(b.bs, report_day_start(d.day::date, c.atz)) AS ps,
               least(b.be, w.we_cut, report_day_start(d.day::date + 1, c.atz)) AS pe,
               report_day_start(d.day::date, c.atz) AS ds, report_day_start(d.day::date + 1, c.atz) AS de
        FROM buckets b CROSS JOIN clock c CROSS JOIN w
        CROSS JOIN LATERAL generate_series(report_local_day(b.bs, c.atz), report_local_day(least(b.be, w.we_cut) - interval '1 microsecond', c.atz), interval '1 day') AS d(day)
        WHERE least(b.be, w.we_cut) > b.bs
      ),
      classified AS (
        SELECT pc.*, CASE
                 WHEN ${q.lines.frozen ? 'TRUE' : 'FALSE'} AND pc.ps = pc.ds AND pc.pe = pc.de AND pc.day < c.booked AND ${inClosedPeriod('pc.day')} THEN 'closed'
                 WHEN pc.ps = pc.ds AND pc.pe = pc.de AND pc.day < c.booked THEN 'cell'
                 WHEN pc.day = c.booked AND pc.ps = pc.ds AND pc.pe = w.as_of AND c.booked = report_local_day(w.as_of, c.atz) THEN 'today'
                 ELSE 'raw' END AS kind
        FROM pieces pc CROSS JOIN clock c CROSS JOIN w
        WHERE pc.pe > pc.ps
      ),
      months AS (
        SELECT bucket, date_trunc('month', day)::date AS month FROM classified
        WHERE kind = 'cell' AND NOT ${q.siteCells ? 'TRUE' : 'FALSE'}
        GROUP BY 1, 2
        HAVING count(*) = ((date_trunc('month', min(day)) + interval '1 month')::date - date_trunc('month', min(day))::date)
      ),
      cell_days AS (
        SELECT x.bucket, x.day FROM classified x
        WHERE x.kind = 'cell' AND NOT EXISTS (SELECT 1 FROM months m WHERE m.bucket = x.bucket AND m.month = date_trunc('month', x.day)::date)
      ),
      today_bad AS (
        SELECT DISTINCT t.project_id, t.site FROM report_usage_today_cell t, clock c, w
        WHERE t.day = c.booked AND greatest(t.max_open_start, t.max_closed_end) > w.as_of AND ${projectOk('t.project_id')} AND ${siteOk('t.site')}
      ),
      ${cutDaysCte(q.projects === null, wantsAlmanach, siteOk('c.cloud'))},
      ${cutPartsCte(weight, almMeter, almKey, entityOk, ws, we)},
      src AS (
        ${
          q.siteCells
            ? `SELECT d.bucket, NULL::text AS project_id, s.site, s.meter, s.key, s.subkey, s.quantity,
                      'site' AS lvl, d.day, NULL::date AS month, s.cells AS ucells
               FROM cell_days d JOIN report_usage_site_day_cell s ON s.day = d.day
               WHERE ${siteOk('s.site')}`
            : `SELECT m.bucket, s.project_id, s.site, s.meter, s.key, s.subkey, s.quantity,
                      'month' AS lvl, NULL::date AS day, m.month, s.cells AS ucells
               FROM months m JOIN report_usage_month_cell s ON s.month = m.month
               WHERE ${projectOk('s.project_id')} AND ${siteOk('s.site')}
               UNION ALL
               SELECT d.bucket, s.project_id, s.site, s.meter, s.key, s.subkey, s.quantity, 'day', d.day, NULL::date, 1
               ${
                 q.projects === null && windowDays(q) <= FLEET_DAY_BY_DAY_MAX
                   ? // The fleet's cells day by day, through the day index: the planner, which guesses hundreds of
                     // days for the pieces' generate_series, otherwise hashes the whole table (22.7M cells at 4M
                     // versions: 9.3 s before a one-day CSV's first line). A longer window reads most of the
                     // table, where the hash is the better plan (a day's cells lie on some 3,400 of its 230,000 pages).
                     `FROM cell_days d CROSS JOIN LATERAL (SELECT s.* FROM report_usage_day_cell s WHERE s.day = d.day AND ${siteOk('s.site')} OFFSET 0) s`
                   : `FROM cell_days d JOIN report_usage_day_cell s ON s.day = d.day
               WHERE ${projectOk('s.project_id')} AND ${siteOk('s.site')}`
               }`
        }
        UNION ALL
        -- An AMIE cell has no open part: its closed part alone, so a charge keeps its own scale (§1.4) as in a day cell,
        -- where adding 0 × the epoch's six digits wrote -2.25 as -2.250000 until the day was booked.
        SELECT x.bucket, t.project_id, t.site, t.meter, t.key, t.subkey,
               CASE WHEN t.meter LIKE 'amie.%' THEN t.closed_part
                    ELSE t.closed_part + t.open_weight * extract(epoch FROM w.as_of) - t.open_anchor END, 'frag', x.day, NULL::date, 1
        FROM classified x CROSS JOIN w JOIN report_usage_today_cell t ON t.day = x.day
        WHERE x.kind = 'today' AND ${projectOk('t.project_id')} AND ${siteOk('t.site')}
          AND NOT EXISTS (SELECT 1 FROM today_bad b WHERE b.project_id = t.project_id AND b.site = t.site)
        UNION ALL
        SELECT x.bucket, v.project_id, c.cloud, ${almMeter}, ${almKey}, '',
               sum(${weight} * extract(epoch FROM least(coalesce(v."end", 'infinity'), x.pe) - greatest(v.start, x.ps))), 'frag', x.day, NULL::date, 1
        FROM classified x CROSS JOIN clock c
        JOIN almanach_entity_version v
          ON v.start < x.pe AND coalesce(v."end", 'infinity') > x.ps
         AND least(coalesce(v."end", 'infinity'), x.pe) > greatest(v.start, x.ps)
        WHERE ${wantsAlmanach} AND ${entityOk} AND ${projectOk('v.project_id')} AND ${siteOk('c.cloud')}
          AND ${almanachRawNeeded}
          AND v.start < least(${we}, ${asOf}) AND coalesce(v."end", 'infinity') > ${ws}
          AND ((${rawAlmanachPiece('x')})
               OR (x.kind = 'today' AND EXISTS (SELECT 1 FROM today_bad b WHERE b.project_id = v.project_id AND b.site = c.cloud)))
        GROUP BY 1, 2, 3, 4, 5, x.day
        UNION ALL
        ${cutDayPiecesSql(q.siteCells && currency === null, anyOf(sources, `split_part(s.meter, '.', 1) = ANY(${sources})`))}
        UNION ALL
        SELECT x.bucket, r.local_project_id, r.site, m.meter, r.resource, m.subkey, sum(m.q), 'frag', x.day, NULL::date, 1
        FROM classified x
        JOIN amie_usage_record r ON ${AMIE_INSTANT} >= x.ps AND ${AMIE_INSTANT} < x.pe
        CROSS JOIN ${AMIE_METERS}
        WHERE ${wantsAmie} AND ${projectOk('r.local_project_id')} AND ${siteOk('r.site')}
          AND ${rawNeeded} AND ${AMIE_INSTANT} >= ${ws} AND ${AMIE_INSTANT} < least(${we}, ${asOf})
          AND (x.kind = 'raw' OR (x.kind = 'today' AND EXISTS (SELECT 1 FROM today_bad b WHERE b.project_id = r.local_project_id AND b.site = r.site)))
        GROUP BY 1, 2, 3, 4, 5, 6, x.day
        UNION ALL
        ${frozenCellsSql(projectOk, siteOk)}
      ),
      lines AS (
        SELECT s.*, 'usage'::text AS line_type, NULL::text AS applies, NULL::numeric AS acost, NULL::text AS aimin, NULL::text AS aimax FROM src s WHERE ${q.lines.usage ? 'TRUE' : 'FALSE'}
        UNION ALL
        ${adjustments}
      ),
      mapped AS (
        SELECT s.bucket, s.project_id, s.site, s.meter,
               CASE WHEN s.meter LIKE 'instance.%' THEN coalesce(fl.name, s.key) ELSE s.key END AS key, s.subkey, s.quantity,
               (s.meter = 'instance.time' AND fl.name IS NULL) AS unsized, fl.vcpus, fl.ram_mb, fl.disk_gb,
               s.key AS skey, s.lvl, s.day, s.month, s.ucells, s.line_type, s.applies, s.acost, s.aimin, s.aimax
        FROM lines s
        LEFT JOIN ${FLAVOR_KEYS} fl ON s.meter LIKE 'instance.%' AND fl.k = s.key
      ),
      metered AS (
        SELECT bucket, project_id, site, meter, key, subkey, quantity, unsized, skey, lvl, day, month, ucells, line_type, applies, acost, aimin, aimax FROM mapped
        UNION ALL SELECT bucket, project_id, site, 'instance.vcpu', key, subkey, quantity * vcpus, FALSE, skey, lvl, day, month, ucells, line_type, applies, 0, NULL, NULL FROM mapped WHERE meter = 'instance.time' AND NOT unsized
        UNION ALL SELECT bucket, project_id, site, 'instance.ram', key, subkey, quantity * ram_mb, FALSE, skey, lvl, day, month, ucells, line_type, applies, 0, NULL, NULL FROM mapped WHERE meter = 'instance.time' AND NOT unsized
        UNION ALL SELECT bucket, project_id, site, 'instance.disk', key, subkey, quantity * disk_gb, FALSE, skey, lvl, day, month, ucells, line_type, applies, 0, NULL, NULL FROM mapped WHERE meter = 'instance.time' AND NOT unsized
      ),
      ${currency === null ? UNRATED : ratedCte(currency)},
      f AS (
        SELECT *, split_part(meter, '.', 1) AS source FROM costed
        WHERE ${filters}
      ),
      ${grouping === 'sorted' ? sortedRes(pick, timeMeters) : hashedRes(pick, timeMeters)}`;
    // The finest level the plan reads (ReportLevel): raw history for cut days (and for today when
    // a today cell is behind as_of), day or today cells per project, site-day cells for fleet
    // figures, month cells; an answer that reads no cell at all (nothing to read) counts as month.
    const level = `(SELECT CASE
        WHEN ${rawNeeded} THEN 'raw'
        WHEN EXISTS (SELECT 1 FROM classified WHERE kind = 'today')${q.siteCells ? '' : ` OR EXISTS (SELECT 1 FROM cell_days)`} THEN 'day'
        WHEN EXISTS (SELECT 1 FROM cell_days) THEN 'site'
        ELSE 'month' END)`;
    // The flavors of the result missing from the catalogue, read from `mapped` with `f`'s filters
    // (an unsized row is a mapped `instance.time` row, which `metered` and `costed` pass on as it is)
    // rather than from `f`: a page without a currency then reads `f` once, which PostgreSQL inlines
    // instead of materialising it (a large project's year by day: 102 → 91 ms in the database).
    const unsizedKeys = `(SELECT coalesce(json_agg(DISTINCT key ORDER BY key), '[]'::json) FROM mapped WHERE unsized AND ${filters})`;
    return { cte, timeMeters, level, unsizedKeys, adjustments };
  }

  /** Which cell level the report reads (for the CSV answer, whose rows do not carry it); the plan only, no cell is read. */
  async level(q: UsageQuery, sql: Sql = this.db): Promise<ReportLevel> {
    const p = new Params();
    const { cte, level } = this.reportCte(q, p, 'sorted');
    const [row] = await runPrepared<{ level: ReportLevel }>(sql, `${cte} SELECT ${level} AS level`, p.values);
    return row.level;
  }

  /**
   * Every row of the report in keyset order, as one statement for the CSV
   * export (reports.md §1.7): no page, no totals; the line's fields as the
   * JSON page writes them (`LINE_COLUMNS`).
   */
  csvStatement(q: UsageQuery): { sql: string; params: unknown[] } {
    const p = new Params();
    const { cte } = this.reportCte(q, p, 'sorted');
    return {
      sql: `${cte}
      SELECT ${LINE_COLUMNS} FROM (SELECT *, ${COST_COLUMNS(q.currency !== null)} FROM res) line ORDER BY ${orderOf(q)}`,
      params: p.values,
    };
  }

  /**
   * One page of the report (`rows`: the JSON text of its lines, built in the
   * database and sent on as it is), the key to continue after it when more
   * rows follow, the totals over the whole result, the keys for the warnings
   * and the level read.
   */
  async aggregate(q: UsageQuery, sql: Sql = this.db): Promise<UsageAnswer> {
    const p = new Params();
    const { cte, timeMeters, level, unsizedKeys } = this.reportCte(q, p, 'hashed');
    const limit = p.add(q.limit, 'int');
    const text = `${cte}
      SELECT page.rows, page.row_count, page.next_key,
        ${totalsSql(timeMeters)} AS totals,
        ${unsizedKeys} AS unsized_keys,
        ${
          q.currency !== null
            ? `(SELECT coalesce(json_agg(json_build_array(meter, key) ORDER BY meter, key), '[]'::json)
               FROM (SELECT DISTINCT meter, key FROM f WHERE f.rcells < f.ucells) mk)`
            : `'[]'::json`
        } AS unpriced_keys,
        ${
          q.currency !== null
            ? `(SELECT json_build_object('cost', (sum(cost_sum) FILTER (WHERE rcells = ucells))::text, 'complete', coalesce(bool_and(rcells = ucells), TRUE)) FROM grouped)`
            : `json_build_object('cost', NULL, 'complete', NULL)`
        } AS cost_totals,
        ${level} AS level, (SELECT count(*) FROM buckets)::int AS bucket_count, (SELECT atz FROM clock) AS zone
      FROM (
        -- The page and one row more (whether more follow); n numbers the page in keyset order.
        SELECT coalesce(json_agg((SELECT ln FROM (SELECT ${LINE_COLUMNS}) ln) ORDER BY n) FILTER (WHERE n <= ${limit}), '[]')::text AS rows,
               (count(*) FILTER (WHERE n <= ${limit}))::int AS row_count,
               CASE WHEN count(*) > ${limit} THEN (array_agg(json_build_array(${SORT_COLUMNS})) FILTER (WHERE n = ${limit}))[1] END AS next_key
        FROM (SELECT line.*, row_number() OVER (ORDER BY ${SORT_COLUMNS}) AS n
              FROM (SELECT *, ${COST_COLUMNS(q.currency !== null)} FROM res ${q.after ? `WHERE ROW(${SORT_COLUMNS}) > ${p.addRow(q.after)}` : ''}
                    ORDER BY ${SORT_COLUMNS} LIMIT ${limit} + 1) line) numbered
      ) page`;
    // Prepared per connection: the text depends only on the query's shape (which filters, groupings
    // and levels), every value is a parameter (see `list` in reportCte).
    const [row] = await runPrepared<UsageAnswer>(sql, text, p.values);
    return row;
  }

  /**
   * A fleet page grouped by project (reports.md §7.6: 10,000 projects hold
   * about 500,000 month cells a month) read from its first projects only:
   * the lines of a one-bucket page are in project order, so the first
   * `limit` + 1 lines after the cursor are those of the first projects at
   * or after the cursor's (`projectSlice`). The page reads a slice of them,
   * `sliceFirst` projects and then more (`nextSlice`), until it holds
   * `limit` + 1 lines or every project is in it; the totals over the whole
   * result come from the site-day cells (`wholeTotals`). Null when the
   * query is not such a page, or when `SLICE_MAX` projects still give too
   * few lines (filters that leave most projects without a line): the caller
   * then asks `aggregate`. Only for pages without a currency: a cost total
   * needs each project's lines priced (docs/reports-benchmark.md).
   */
  async projectSlicePage(q: UsageQuery, sql: Sql = this.db): Promise<UsageAnswer | null> {
    if (!q.groupBy.includes('project_id') || q.projects !== null || q.currency !== null || !q.lines.usage) return null;
    // The cursor's project (k2, k3 of the sort key); a line without a project sorts first, and a slice page has none.
    const from = q.after !== null && q.after[1] === true ? String(q.after[2]) : '';
    for (let size = sliceFirst(q.limit); size <= SLICE_MAX; ) {
      const projects = await this.projectSlice(q, from, size, sql);
      if (projects === null) return null;
      const page = await this.aggregate({ ...q, projects }, sql);
      if (page.next_key !== null || projects.length < size) {
        // Without a currency the page has no unpriced keys or cost, and its level is the whole statement's (month cells).
        const { totals, unsized_keys } = await this.wholeTotals(q, sql);
        return { ...page, totals, unsized_keys };
      }
      size = nextSlice(size, page.row_count, q.limit);
    }
    return null;
  }

  /**
   * A page of many buckets (days or months) read from its first buckets
   * only: the lines are in bucket order first, so the first `limit` + 1
   * lines after the cursor are those of the first buckets at or after the
   * cursor's. One project's year by day has about 14,000 lines before its
   * first page of 1,000, which the first month of days holds. The page reads
   * `sliceFirst` buckets, then more (`nextSlice`), until it holds
   * `limit` + 1 lines or the window's last bucket; the totals and unsized
   * keys are those of the same report as one bucket (`wholeTotals`: every
   * line of a meter in seconds is exact at six digits, so the totals of
   * finer buckets are the same sums). Null when the query is not such a
   * page: a granularity of `total`, a window of few buckets, a grouping
   * without `key` or `project_id` (a few lines a bucket: the slices would
   * end up reading every bucket anyway), a currency (a cost total sums
   * the priced lines, which finer buckets change), or a zone other than the
   * accounting zone.
   */
  async bucketSlicePage(q: UsageQuery, sql: Sql = this.db): Promise<UsageAnswer | null> {
    if (q.granularity === 'total' || q.currency !== null || !(q.groupBy.includes('key') || q.groupBy.includes('project_id'))) return null;
    const days = (Date.parse(q.end) - Date.parse(q.start)) / 86_400_000;
    if ((q.granularity === 'day' ? days : days / 28) <= BUCKET_SLICE_MIN) return null;
    const from = q.after === null ? null : String(q.after[0]);
    for (let count = sliceFirst(q.limit); ; ) {
      const page = await this.aggregate({ ...q, bucketSlice: { from, count } }, sql);
      // Buckets of another zone cut accounting days, whose pieces the lines read from raw history and the
      // totals of one bucket from cells: the two differ while a day is dirty, so such a page reads everything.
      if (page.zone !== q.tz) return null;
      if (page.next_key !== null || page.bucket_count < count) {
        const whole = await this.wholeTotals(q, sql);
        return { ...page, totals: whole.totals, unsized_keys: whole.unsized_keys, level: finerLevel(page.level, whole.level) };
      }
      count = nextSlice(count, page.row_count, q.limit);
    }
  }

  /**
   * The first `size` projects at or after `from` (byte order) that can have
   * a line in the result: those with a month cell of the window's months or
   * an adjustment line in it. Null unless the window is one bucket of whole
   * months read from month cells (no cut, booked-but-not-monthly, today or
   * frozen day), the only shape whose every usage line comes from a month
   * cell of its project.
   */
  private async projectSlice(q: UsageQuery, from: string, size: number, sql: Sql): Promise<string[] | null> {
    const p = new Params();
    const { cte, adjustments } = this.reportCte(q, p, 'hashed');
    const after = p.add(from, 'text');
    const limit = p.add(size, 'int');
    const text = `${cte}
      SELECT (SELECT count(*) FROM buckets) = 1 AND NOT EXISTS (SELECT 1 FROM classified WHERE kind <> 'cell')
             AND NOT EXISTS (SELECT 1 FROM cell_days) AS whole_months,
        ARRAY(SELECT u.project_id FROM (
            SELECT c.project_id FROM months m CROSS JOIN LATERAL (
              SELECT DISTINCT s.project_id COLLATE "C" AS project_id FROM report_usage_month_cell s
              WHERE s.month = m.month AND s.project_id COLLATE "C" >= ${after} COLLATE "C"
              ORDER BY 1 LIMIT ${limit}) c
            UNION
            SELECT a.project_id COLLATE "C" FROM (${adjustments}) AS a(bucket, project_id) WHERE a.project_id COLLATE "C" >= ${after} COLLATE "C"
          ) u ORDER BY 1 LIMIT ${limit}) AS projects`;
    const [row] = await runPrepared<{ whole_months: boolean; projects: string[] }>(sql, text, p.values);
    return row.whole_months ? row.projects : null;
  }

  /**
   * The totals and unsized keys of the query's whole result, as the same
   * report in one bucket and without grouping reads them (and, for a fleet
   * query, from site-day cells as a report without a project does), with the
   * level it read: equal to the sums of the sliced pages' lines, since every
   * line of a meter in seconds is exact at six digits (an integer times a
   * difference of microsecond instants, so its rounding changes nothing) and
   * a charge's sum has the scale of its largest-scale charge at every level
   * (cellDeltas). reports-page-slices checks the two agree.
   */
  private async wholeTotals(q: UsageQuery, sql: Sql): Promise<WholeTotals & { level: ReportLevel }> {
    const p = new Params();
    const whole: UsageQuery = { ...q, groupBy: [], granularity: 'total', siteCells: q.projects === null, after: null, bucketSlice: undefined };
    const { cte, timeMeters, unsizedKeys, level } = this.reportCte(whole, p, 'hashed');
    const [row] = await runPrepared<WholeTotals & { level: ReportLevel }>(
      sql,
      `${cte} SELECT ${totalsSql(timeMeters)} AS totals, ${unsizedKeys} AS unsized_keys, ${level} AS level`,
      p.values,
    );
    return row;
  }

  /**
   * How fresh the rollups are for the window and scope (§3.1, §5.5): the
   * dirty set D counts its keys and the days of its undrained ranges.
   */
  async freshness(start: string, endCut: string, projects: string[] | null, sites: string[] | null, sql: Sql = this.db): Promise<Freshness> {
    // Like the report, the text carries which filters are given, not their values (runPrepared).
    const params: unknown[] = [start, endCut];
    const projectParam = projects === null ? null : `$${params.push(projects)}::text[]`;
    const siteParam = sites === null ? null : `$${params.push(sites)}::text[]`;
    const scope: DirtyScope = {
      lo: `report_local_day($1::timestamptz, c.atz)`,
      hi: `report_local_day($2::timestamptz - interval '1 microsecond', c.atz)`,
      where: (a) =>
        [projectParam && `${a}.project_id = ANY(${projectParam})`, siteParam && `${a}.site = ANY(${siteParam})`].filter(Boolean).join(' AND ') || 'TRUE',
    };
    const [row] = await runPrepared<Freshness>(
      sql,
      `WITH c AS (SELECT time_zone AS atz, booked_day FROM report_clock WHERE id = 1)
       SELECT ${dirtyCountSql(scope)}::int AS pending_cells,
              coalesce(floor(extract(epoch FROM now() - ${dirtySinceSql(scope)})), 0)::int AS lag_seconds,
              c.booked_day::text AS booked_day, report_local_day($2::timestamptz - interval '1 microsecond', c.atz)::text AS last_day
       FROM c`,
      params,
    );
    return row;
  }
}

/** How `res` groups the metered rows: see `sortedRes` and `hashedRes`. */
type Grouping = 'sorted' | 'hashed';
type Pick = (col: GroupColumn) => string;

/** Σ quantity of a group of rows of one meter: rounded to six digits for meters in seconds. */
const quantitySum = (timeMeters: string) => `CASE WHEN meter = ANY(${timeMeters}) THEN round(sum(quantity), 6) ELSE sum(quantity) END`;

/** What `wholeTotals` answers. */
type WholeTotals = { totals: UsageTotal[]; unsized_keys: string[] };

/** The totals by meter (§3.1) over `grouped`, as JSON. */
const totalsSql = (timeMeters: string) => `(SELECT coalesce(json_agg(json_build_object('meter', meter, 'quantity', quantity::text) ORDER BY meter), '[]'::json)
         FROM (SELECT meter, ${quantitySum(timeMeters)} AS quantity FROM grouped GROUP BY meter) t)`;

/** How many projects or buckets a slice page reads first (`projectSlicePage`, `bucketSlicePage`): a sixteenth of the page's lines, at least 16; and at most how many projects. */
const sliceFirst = (limit: number) => Math.max(16, Math.ceil((limit + 1) / 16));
const SLICE_MAX = 4096;
/** How many buckets a window must exceed to be sliced (`bucketSlicePage`). */
const BUCKET_SLICE_MIN = 32;
/**
 * The next slice after `size` projects gave `lines` lines, too few for a
 * page of `limit`: half as many again as those lines per project suggest,
 * at least twice and at most eight times `size`.
 */
const nextSlice = (size: number, lines: number, limit: number) =>
  Math.min(size * 8, Math.max(size * 2, Math.ceil((1.5 * size * (limit + 1)) / Math.max(lines, 1))));

/** The sums of a report row (§3.1) over the metered rows of `f` it groups. */
const ROW_SUMS = (timeMeters: string) => `${quantitySum(timeMeters)} AS quantity,
               bool_or(unsized) AS unsized,
               sum(cost) AS cost_sum, sum(rcells) AS rcells, sum(ucells) AS ucells, min(imin) AS imin, max(imax) AS imax`;

/** The grouping columns of a report row over `f` (`pick`: the column, or null when not grouped); the order `hashedRes` groups by. */
const groupedColumns = (pick: Pick) =>
  `${pick('project_id')} AS project_id, ${pick('site')} AS site, f.source, f.meter, ${pick('key')} AS key, ${pick('subkey')} AS subkey, f.line_type, f.applies AS applies_to_period`;

/**
 * `res` for the export: grouped by the keyset's sort columns first (one to
 * one with the grouping columns after them). When the plan groups by
 * sorting, that one sort also gives the keyset order, and the CSV's ORDER BY
 * (a prefix of it) needs no sort of its own.
 */
function sortedRes(pick: Pick, timeMeters: string): string {
  return `pre AS (
        SELECT b.bs AS period_start, b.be AS period_end, b.label AS period,
               ${groupedColumns(pick)},
               f.quantity, f.unsized, f.cost, f.rcells, f.ucells, f.imin, f.imax
        FROM f JOIN buckets b ON b.bucket = f.bucket
      ),
      res AS (
        SELECT ${SORT_KEY_SELECT},
               ${RES_GROUP_COLUMNS.join(', ')},
               ${ROW_SUMS(timeMeters)}
        FROM pre
        GROUP BY ${Array.from({ length: SORT_PARTS.length + RES_GROUP_COLUMNS.length }, (_, i) => i + 1).join(', ')}
      )`;
}

/**
 * `res` for a page: `grouped` groups the metered rows by the bucket's
 * number and the grouping columns only (nine columns, against the export's
 * 25), hashed; `res` then adds each row's period and sort columns, and
 * the page's top-N sort is the only sort. On the reports bench database a
 * year by day of one of its largest projects (14,570 day cells) took
 * 105 ms in the database grouped as the export groups and 75 ms so
 * (docs/reports-benchmark.md). `PAGE_SETTINGS` turns sorting off for the
 * page's transaction: the planner, which estimates `f` at about 15 times
 * its rows, otherwise sorts to group. The totals read `grouped`, which holds
 * the same rows as `res` because every piece of `src` and every adjustment
 * line takes its bucket from `buckets` (a branch that did not would count
 * in the totals and not on the page; reports-line-sums checks the two agree).
 */
function hashedRes(pick: Pick, timeMeters: string): string {
  return `grouped AS (
        SELECT f.bucket, ${groupedColumns(pick)},
               ${ROW_SUMS(timeMeters)}
        FROM f
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
      ),
      res AS NOT MATERIALIZED (
        SELECT ${SORT_KEY_SELECT}, r.*
        FROM (SELECT b.bs AS period_start, b.be AS period_end, b.label AS period, g.* FROM grouped g JOIN buckets b ON b.bucket = g.bucket) r
      )`;
}

/** The buckets of the window (`bucket`, `bs`, `be`, `label`): the whole window, or its local days or months in `tz`. */
function bucketsSql(q: UsageQuery, p: Params): string {
  const all = allBucketsSql(q, p);
  if (!q.bucketSlice) return all;
  const from = q.bucketSlice.from === null ? 'TRUE' : `to_char(b0.bs AT TIME ZONE 'UTC', ${UTC_MICROS}) COLLATE "C" >= ${p.add(q.bucketSlice.from, 'text')} COLLATE "C"`;
  return `SELECT * FROM (${all}) b0 WHERE ${from} ORDER BY b0.bucket LIMIT ${p.add(q.bucketSlice.count, 'int')}`;
}

function allBucketsSql(q: UsageQuery, p: Params): string {
  if (q.granularity === 'total') return `SELECT 0 AS bucket, w.ws AS bs, w.we AS be, ${p.add(q.period, 'text')} AS label FROM w`;
  const tz = p.add(q.tz, 'text');
  if (q.granularity === 'day') {
    return `SELECT row_number() OVER (ORDER BY d.day)::int AS bucket, greatest(w.ws, report_day_start(d.day::date, ${tz})) AS bs,
               least(w.we, report_day_start(d.day::date + 1, ${tz})) AS be,
               CASE WHEN report_day_start(d.day::date, ${tz}) >= w.ws AND report_day_start(d.day::date + 1, ${tz}) <= w.we
                    THEN to_char(d.day, 'YYYY-MM-DD') END AS label
        FROM w, generate_series(report_local_day(w.ws, ${tz}), report_local_day(w.we - interval '1 microsecond', ${tz}), interval '1 day') AS d(day)`;
  }
  return `SELECT row_number() OVER (ORDER BY m.month)::int AS bucket, greatest(w.ws, report_day_start(m.month::date, ${tz})) AS bs,
               least(w.we, report_day_start((m.month + interval '1 month')::date, ${tz})) AS be,
               CASE WHEN report_day_start(m.month::date, ${tz}) >= w.ws AND report_day_start((m.month + interval '1 month')::date, ${tz}) <= w.we
                    THEN to_char(m.month, 'YYYY-MM') END AS label
        FROM w, generate_series(date_trunc('month', report_local_day(w.ws, ${tz})), date_trunc('month', report_local_day(w.we - interval '1 microsecond', ${tz})), interval '1 month') AS m(month)`;
}

/**
 * The keyset order of §3.1 as one composite value: period_start, then
 * project_id, site, source, key, subkey (nulls first), meter, line_type
 * (usage first), applies_to_period (nulls first); strings in byte order
 * (COLLATE "C"). Each nullable column is (is not null, value). `column`: the
 * grouping column a part is built from when the query may leave that column
 * ungrouped (the part is then a constant, see `orderOf`).
 */
const SORT_PARTS: { sql: string; column: GroupColumn | null }[] = [
  { sql: `to_char(period_start AT TIME ZONE 'UTC', ${UTC_MICROS}) COLLATE "C"`, column: null },
  { sql: `project_id IS NOT NULL`, column: 'project_id' },
  { sql: `coalesce(project_id, '') COLLATE "C"`, column: 'project_id' },
  { sql: `site IS NOT NULL`, column: 'site' },
  { sql: `coalesce(site, '') COLLATE "C"`, column: 'site' },
  { sql: `source COLLATE "C"`, column: null },
  { sql: `key IS NOT NULL`, column: 'key' },
  { sql: `coalesce(key, '') COLLATE "C"`, column: 'key' },
  { sql: `subkey IS NOT NULL`, column: 'subkey' },
  { sql: `coalesce(subkey, '') COLLATE "C"`, column: 'subkey' },
  { sql: `meter COLLATE "C"`, column: null },
  { sql: `line_type = 'adjustment'`, column: null },
  { sql: `applies_to_period IS NOT NULL`, column: null },
  { sql: `coalesce(applies_to_period, '') COLLATE "C"`, column: null },
];
/** The columns of a report row that `res` groups by, after the sort parts. */
const RES_GROUP_COLUMNS = ['period_start', 'period_end', 'period', 'project_id', 'site', 'source', 'meter', 'key', 'subkey', 'line_type', 'applies_to_period'];
const SORT_COLUMNS = SORT_PARTS.map((_, i) => `k${i + 1}`).join(', ');
/** The sort parts as the columns k1…k14 of a row of `res`. */
const SORT_KEY_SELECT = SORT_PARTS.map((part, i) => `${part.sql} AS k${i + 1}`).join(', ');

/**
 * The keyset order of the query without the parts that are constants for it
 * (those of a column it does not group by): the same order, and the one the
 * grouping's sort in `res` gives once the planner drops those constants, so
 * an export sorts its rows once instead of twice.
 */
function orderOf(q: UsageQuery): string {
  return SORT_PARTS.map((part, i) => (part.column === null || q.groupBy.includes(part.column) ? `k${i + 1}` : null))
    .filter((k) => k !== null)
    .join(', ');
}

/** The cost columns of a result row of `res` (§3.1): null without a currency. */
function COST_COLUMNS(priced: boolean): string {
  if (!priced) return `NULL::text AS unit_price, NULL::text AS price_unit, NULL::text AS cost, NULL::boolean AS priced`;
  return `(SELECT pi.unit_price::text FROM report_price_item pi WHERE pi.id = imin AND imin = imax) AS unit_price,
          (SELECT pi.price_unit FROM report_price_item pi WHERE pi.id = imin AND imin = imax) AS price_unit,
          CASE WHEN rcells = ucells THEN cost_sum::text END AS cost, (rcells = ucells) AS priced`;
}

/** An instant as the answers write it (`isoMillis`): to_char's `MS` truncates the microseconds as its slice does. */
const UTC_MILLIS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The fields of one answered line (§3.1), in the answer's order, and
 * `LINE_COLUMNS`, them as SQL over a row of `res` with its cost columns.
 * The CSV selects them (with `currency` added); the JSON page aggregates
 * them as a row (`json_agg` of a record writes `{"name":value,…}`: a quarter
 * shorter and a third faster than `json_build_object`'s
 * `{"name" : value, …}`), so the API passes both on without touching a line.
 */
export const USAGE_LINE_FIELDS = [
  'period_start',
  'period_end',
  'period',
  'line_type',
  'applies_to_period',
  'project_id',
  'site',
  'source',
  'meter',
  'key',
  'subkey',
  'unit',
  'quantity',
  'quantity_hours',
  'unsized',
  'unit_price',
  'price_unit',
  'cost',
  'priced',
] as const;
/** The fields not answered as the column of `res` they are named after. */
const LINE_SQL: Partial<Record<(typeof USAGE_LINE_FIELDS)[number], string>> = {
  period_start: `to_char(period_start AT TIME ZONE 'UTC', ${UTC_MILLIS})`,
  period_end: `to_char(period_end AT TIME ZONE 'UTC', ${UTC_MILLIS})`,
  unit: unitSql('meter'),
  quantity: 'quantity::text',
  quantity_hours: quantityHoursSql('meter', 'quantity'),
};
const LINE_COLUMNS = USAGE_LINE_FIELDS.map((field) => (LINE_SQL[field] ? `${LINE_SQL[field]} AS ${field}` : field)).join(', ');

/** The longest window, in days, whose fleet day cells are read day by day (see `reportCte`). */
const FLEET_DAY_BY_DAY_MAX = 62;

/** The window's length in days, rounded up. */
function windowDays(q: UsageQuery): number {
  return Math.ceil((Date.parse(q.end) - Date.parse(q.start)) / 86_400_000);
}

/**
 * `cut_days`: the cut days (raw pieces) of a fleet report whose day cells at
 * the cloud site are exact, so that `cutDayPiecesSql` answers their Almanach
 * part from the day cells and the versions with an end inside the day. A
 * day is exact when it is booked (it has cells) and no dirty key or range of
 * the cloud site names it: the drain removes a key in the transaction that
 * writes its cells, so in the statement's snapshot the cells of such a day
 * are the history's (I1). Other cut days, and every cut day of a report
 * naming its projects (whose raw read is one index range per project),
 * are read from raw history whole.
 */
function cutDaysCte(fleet: boolean, wantsAlmanach: string, cloudOk: string): string {
  return `cut_days AS (
        SELECT x.bucket, x.day, x.ps, x.pe, x.ds, x.de FROM classified x CROSS JOIN clock c
        WHERE ${fleet ? 'TRUE' : 'FALSE'} AND x.kind = 'raw' AND x.day < c.booked AND ${wantsAlmanach} AND ${cloudOk}
          AND NOT EXISTS (SELECT 1 FROM report_dirty_key d WHERE d.day = x.day AND d.site = c.cloud)
          AND NOT EXISTS (SELECT 1 FROM report_dirty_range r WHERE r.site = c.cloud AND r.first_day <= x.day AND r.last_day >= x.day)
      )`;
}

/**
 * `cut_parts`: per piece of `cut_days` and (project, meter, key), the
 * versions with an end strictly inside the piece's day (found through the
 * start and end indexes): their weight × time in the day (`pday`) and in
 * the piece (`ppiece`), their entities with time in the day (`pn`), and
 * whether one has time in the piece (`touches`).
 */
function cutPartsCte(weight: string, meter: string, key: string, entityOk: string, ws: string, we: string): string {
  const overlap = (s: string, e: string) => `greatest(extract(epoch FROM least(coalesce(v."end", 'infinity'), ${e})) - extract(epoch FROM greatest(v.start, ${s})), 0)`;
  // Bounds of the window's own, as parameters, so the partitions are pruned at the plan's start: a cut day's
  // versions end after its start, within 27 hours of the window's start at most (Antarctica/Casey's longest day).
  const partitions = `coalesce(v."end", 'infinity') > ${ws} - interval '3 days' AND v.start < ${we} + interval '3 days'`;
  return `cut_parts AS MATERIALIZED (
        SELECT x.bucket, x.day, v.project_id, ${meter} AS meter, ${key} AS key,
               sum(${weight} * ${overlap('x.ds', 'x.de')}) AS pday, sum(${weight} * ${overlap('x.ps', 'x.pe')}) AS ppiece,
               count(DISTINCT v.entity_id) FILTER (WHERE least(coalesce(v."end", 'infinity'), x.de) > greatest(v.start, x.ds)) AS pn,
               bool_or(least(coalesce(v."end", 'infinity'), x.pe) > greatest(v.start, x.ps)) AS touches
        FROM cut_days x
        CROSS JOIN LATERAL (
          SELECT v.* FROM almanach_entity_version v
          WHERE v.start > x.ds AND v.start < x.de AND ${partitions}
          UNION ALL
          SELECT v.* FROM almanach_entity_version v
          WHERE v."end" > x.ds AND v."end" < x.de AND coalesce(v."end", 'infinity') > x.ds AND coalesce(v."end", 'infinity') < x.de
            AND NOT (v.start > x.ds AND v.start < x.de) AND ${partitions}
        ) v
        WHERE ${entityOk}
        GROUP BY 1, 2, 3, 4, 5
      )`;
}

/**
 * The Almanach part of the pieces of `cut_days` (issue 9: a fleet's cut day
 * read from raw history read every version live that day, millions at
 * scale). A piece [ps, pe) of day [ds, de) gets, per (meter, key) and
 * project or site,
 *
 *   W × (pe − ps) + Σ over the day's partial versions (`cut_parts`) of weight × |v ∩ piece|
 *
 * where W, the weight of the versions covering the whole day, is (cell −
 * Σ partial weight × |v ∩ day|) ÷ the day's length: an integer (weights
 * are), so exact. A version with time in the day has its day cell (I1), so
 * every group of `cut_parts` meets one. A row exists, as in the raw read,
 * when a version has time in the piece: a partial one does, or a version
 * covers the whole day (W ≠ 0, or a project's cell counts more entities
 * than its partial versions have). One case is answered without its row:
 * an entity whose whole-day version weighs nothing (a volume of size 0)
 * and overlaps a partial version of its own that misses the piece. The API
 * refuses overlapping versions; only a history imported in SQL can hold
 * them, and the row's quantity would be 0.
 *
 * `bySite` (a fleet report without a project column or a currency, which
 * reads site-day cells for whole days too): the site-day cell instead of
 * the fleet's day cells (a few hundred a day, not 200,000 at 10,000
 * projects). A whole-day entity is then known to exist when W > 0, when a
 * project has a cell but no partial version, or, failing both (a key whose
 * whole-day versions weigh nothing, or whose every project has partial
 * versions), from the day cells of the projects with partial versions, by
 * primary key.
 */
function cutDayPiecesSql(bySite: boolean, cellSourceOk: string): string {
  // W × (pe − ps) + the partial versions' time in the piece, for cell `s` and its partial sums `p`.
  const piece = `round((s.quantity - coalesce(p.pday, 0)) / (extract(epoch FROM x.de) - extract(epoch FROM x.ds))) * (extract(epoch FROM x.pe) - extract(epoch FROM x.ps))
                 + coalesce(p.ppiece, 0)`;
  if (!bySite) {
    return `SELECT x.bucket, s.project_id, s.site, s.meter, s.key, '', ${piece}, 'frag', x.day, NULL::date, 1
        FROM cut_days x CROSS JOIN clock c
        JOIN report_usage_day_cell s ON s.day = x.day AND s.site = c.cloud
        LEFT JOIN cut_parts p ON p.bucket = x.bucket AND p.day = x.day AND p.project_id = s.project_id AND p.meter = s.meter AND p.key = s.key
        WHERE s.meter IN ('instance.time', 'volume.size') AND s.subkey = '' AND ${cellSourceOk}
          AND (coalesce(p.touches, FALSE) OR s.quantity <> coalesce(p.pday, 0) OR s.items > coalesce(p.pn, 0))`;
  }
  return `SELECT x.bucket, NULL::text, s.site, s.meter, s.key, '', ${piece}, 'frag', x.day, NULL::date, 1
        FROM cut_days x CROSS JOIN clock c
        JOIN report_usage_site_day_cell s ON s.site = c.cloud AND s.day = x.day
        LEFT JOIN (
          SELECT bucket, day, meter, key, sum(pday) AS pday, sum(ppiece) AS ppiece, count(*) FILTER (WHERE pn > 0) AS projects, bool_or(touches) AS touches
          FROM cut_parts GROUP BY 1, 2, 3, 4
        ) p ON p.bucket = x.bucket AND p.day = x.day AND p.meter = s.meter AND p.key = s.key
        WHERE s.meter IN ('instance.time', 'volume.size') AND s.subkey = '' AND ${cellSourceOk}
          AND (coalesce(p.touches, FALSE)
               OR s.quantity <> coalesce(p.pday, 0)
               OR s.cells > coalesce(p.projects, 0)
               OR EXISTS (SELECT 1 FROM cut_parts cp JOIN report_usage_day_cell d
                            ON d.project_id = cp.project_id AND d.site = s.site AND d.day = x.day AND d.meter = s.meter AND d.key = s.key AND d.subkey = ''
                          WHERE cp.bucket = x.bucket AND cp.day = x.day AND cp.meter = s.meter AND cp.key = s.key AND d.items > cp.pn))`;
}

/** `costed` without a currency: no cost. */
const UNRATED = `costed AS (SELECT mt.*, NULL::numeric AS cost, 0 AS rcells, NULL::text AS imin, NULL::text AS imax FROM metered mt)`;

/**
 * `costed`: every metered piece with its cost in `currency` (§4.5): the
 * rated cells of the level it was read from (the list that applies to its
 * project; for site-day pieces every list of the currency), and for today
 * and cut days (`frag`) a fragment cell rated now by the same formula.
 * `rcells` counts the rated cells against `ucells`, the usage cells (a
 * piece is priced when they are equal); `imin`/`imax` bound the ids of
 * the items that rated it (one item when equal): a day cell's item, a month
 * cell's `item_id` (null when several: bounds '' and 'several', never equal), and for a
 * site-day cell the item each list has in force that day. Days of closed
 * periods read with view=closed (`frozen`) cost their frozen rated cell and
 * name its item ('' when unknown: cells frozen before migration
 * 1763801860000); adjustment rows (`adj`) carry the Σ of their
 * cost lines in the currency (`acost`) and the bounds of those lines' items
 * (`aimin`/`aimax`, periods/period-lines-sql.ts); the derived-meter rows an
 * adjustment of instance time yields name none (null bounds: their cost is
 * the derived meter's own cost lines).
 */
function ratedCte(currency: string): string {
  return `plist AS (
        SELECT p.project_id, ${applicableListId('p.project_id', currency)} AS list_id
        FROM (SELECT DISTINCT project_id FROM metered WHERE project_id IS NOT NULL) p
      ),
      costed AS (
        SELECT mt.*, rc.cost, coalesce(rc.rcells, 0) AS rcells, rc.imin, rc.imax
        FROM metered mt LEFT JOIN plist pl ON pl.project_id = mt.project_id
        LEFT JOIN LATERAL (
          SELECT rd.cost, 1 AS rcells, rd.item_id AS imin, rd.item_id AS imax FROM report_rated_day_cell rd
          WHERE mt.lvl = 'day' AND rd.project_id = mt.project_id AND rd.site = mt.site AND rd.day = mt.day AND rd.meter = mt.meter
            AND rd.key = mt.skey AND rd.subkey = mt.subkey AND rd.price_list_id = pl.list_id AND rd.superseded_by IS NULL
          UNION ALL
          SELECT rm.cost, rm.cells, coalesce(rm.item_id, ''), coalesce(rm.item_id, 'several') FROM report_rated_month_cell rm
          WHERE mt.lvl = 'month' AND rm.project_id = mt.project_id AND rm.site = mt.site AND rm.month = mt.month AND rm.meter = mt.meter
            AND rm.key = mt.skey AND rm.subkey = mt.subkey AND rm.price_list_id = pl.list_id
          UNION ALL
          SELECT sum(rs.cost), sum(rs.cells)::int, min(it.id), max(it.id) FROM report_rated_site_day_cell rs
          LEFT JOIN LATERAL report_price_item_at(rs.price_list_id, mt.day, mt.meter, mt.key, mt.subkey) it ON TRUE
          WHERE mt.lvl = 'site' AND rs.site = mt.site AND rs.day = mt.day AND rs.meter = mt.meter
            AND rs.key = mt.skey AND rs.subkey = mt.subkey AND rs.currency = ${currency}
          HAVING count(*) > 0
          UNION ALL
          SELECT report_rated_cost(i.unit_price, mt.quantity, i.price_unit), 1, i.id, i.id
          FROM report_price_item_at(pl.list_id, mt.day, mt.meter, mt.key, mt.subkey) i
          WHERE mt.lvl = 'frag'
          UNION ALL
          SELECT fc.cost, 1, coalesce(fc.item_id, ''), coalesce(fc.item_id, '') FROM report_closed_cell fc
          WHERE mt.lvl = 'frozen' AND fc.month = date_trunc('month', mt.day)::date AND fc.project_id = mt.project_id AND fc.site = mt.site
            AND fc.day = mt.day AND fc.meter = mt.meter AND fc.key = mt.skey AND fc.subkey = mt.subkey AND fc.price_list_id = pl.list_id
          UNION ALL
          SELECT mt.acost, mt.ucells, mt.aimin, mt.aimax WHERE mt.lvl = 'adj' AND pl.list_id IS NOT NULL
        ) rc ON TRUE
      )`;
}

/** Positional parameters with explicit types. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
  /** A row value comparable with the row of SORT_PARTS. */
  addRow(parts: (string | boolean)[]): string {
    if (parts.length !== SORT_PARTS.length) throw new Error('sort key of the wrong length');
    return `ROW(${parts.map((part) => (typeof part === 'boolean' ? this.add(part, 'boolean') : `${this.add(part, 'text')} COLLATE "C"`)).join(', ')})`;
  }
}
