import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, Sql } from '../../database/query-result';
import { AMIE_INSTANT, AMIE_METERS } from '../rollups/usage-sql';
import { ReportLevel } from '../report-level';
import { UTC_MICROS } from '../window/window.repository';

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
  /** Fleet totals may be read from site-day cells: no project grouped or filtered, not a `user` (§1.3). */
  siteCells: boolean;
  /** The sort key of the last row of the previous page, or null for the first page. */
  after: (string | boolean)[] | null;
  limit: number;
}

export interface UsageRow {
  period_start: string;
  period_end: string;
  period: string | null;
  project_id: string | null;
  site: string | null;
  source: string;
  meter: string;
  key: string | null;
  subkey: string | null;
  quantity: string;
  unsized: boolean;
  /** The keyset sort key of the row (opaque to the service, echoed back in `after`). */
  sort_key: (string | boolean)[];
}

export interface UsageTotal {
  meter: string;
  quantity: string;
}

export interface UsageAnswer {
  rows: UsageRow[];
  totals: UsageTotal[];
  /** Flavor strings of the result missing from the catalogue. */
  unsized_keys: string[];
  /** Every (meter, key) of the result, for the warnings. */
  meter_keys: [string, string][];
  /** The finest cell level the answer read (ReportLevel). */
  level: ReportLevel;
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
   * The report as a WITH clause ending in `keyed`: one row per (bucket,
   * group, meter) with its sort columns k1…k11, and `f`, the metered rows
   * before grouping. Parameters are added to `p`.
   */
  private reportCte(q: UsageQuery, p: Params): { cte: string; timeMeters: string; level: string } {
    const ws = p.add(q.start, 'timestamptz');
    const we = p.add(q.end, 'timestamptz');
    const asOf = p.add(q.asOf, 'timestamptz');
    const tz = p.add(q.tz, 'text');
    const period = p.add(q.period, 'text');
    const gran = p.add(q.granularity, 'text');
    const projects = p.add(q.projects, 'text[]');
    const sites = p.add(q.sites, 'text[]');
    const sources = p.add(q.sources, 'text[]');
    const meters = p.add(q.meters, 'text[]');
    const flavors = p.add(q.flavors, 'text[]');
    const volumeTypes = p.add(q.volumeTypes, 'text[]');
    const resources = p.add(q.resources, 'text[]');
    const recordTypes = p.add(q.recordTypes, 'text[]');
    const timeMeters = p.add(TIME_METERS, 'text[]');

    const projectOk = (col: string) => `(${projects} IS NULL OR ${col} = ANY(${projects}))`;
    const siteOk = (col: string) => `(${sites} IS NULL OR ${col} = ANY(${sites}))`;
    const wantsAlmanach = `(${sources} IS NULL OR ${sources} && ARRAY['instance', 'volume'])`;
    const entityOk = `(${sources} IS NULL OR v.entity_type = ANY(${sources}))`;
    const wantsAmie = `(${sources} IS NULL OR 'amie' = ANY(${sources}))`;
    const weight = `CASE v.entity_type WHEN 'instance' THEN 1 ELSE coalesce(v.size, 0) END`;
    const almMeter = `CASE v.entity_type WHEN 'instance' THEN 'instance.time' ELSE 'volume.size' END`;
    const almKey = `CASE v.entity_type WHEN 'instance' THEN coalesce(v.flavor, '') ELSE coalesce(v.volume_type, '') END`;
    const grouped = (col: GroupColumn) => q.groupBy.includes(col);
    const pick = (col: GroupColumn) => (grouped(col) ? `f.${col}` : `NULL::text`);

    const cte = `
      WITH clock AS (
        SELECT time_zone AS atz, cloud_site AS cloud, booked_day AS booked, report_day_start(booked_day, time_zone) AS h
        FROM report_clock WHERE id = 1
      ),
      w AS (SELECT ${ws} AS ws, ${we} AS we, least(${we}, ${asOf}) AS we_cut, ${asOf} AS as_of),
      buckets AS (
        SELECT 0 AS bucket, w.ws AS bs, w.we AS be, ${period} AS label FROM w WHERE ${gran} = 'total'
        UNION ALL
        SELECT row_number() OVER (ORDER BY d.day)::int, greatest(w.ws, report_day_start(d.day::date, ${tz})),
               least(w.we, report_day_start(d.day::date + 1, ${tz})),
               CASE WHEN report_day_start(d.day::date, ${tz}) >= w.ws AND report_day_start(d.day::date + 1, ${tz}) <= w.we
                    THEN to_char(d.day, 'YYYY-MM-DD') END
        FROM w, generate_series(report_local_day(w.ws, ${tz}), report_local_day(w.we - interval '1 microsecond', ${tz}), interval '1 day') AS d(day)
        WHERE ${gran} = 'day'
        UNION ALL
        SELECT row_number() OVER (ORDER BY m.month)::int, greatest(w.ws, report_day_start(m.month::date, ${tz})),
               least(w.we, report_day_start((m.month + interval '1 month')::date, ${tz})),
               CASE WHEN report_day_start(m.month::date, ${tz}) >= w.ws AND report_day_start((m.month + interval '1 month')::date, ${tz}) <= w.we
                    THEN to_char(m.month, 'YYYY-MM') END
        FROM w, generate_series(date_trunc('month', report_local_day(w.ws, ${tz})), date_trunc('month', report_local_day(w.we - interval '1 microsecond', ${tz})), interval '1 month') AS m(month)
        WHERE ${gran} = 'month'
      ),
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
      src AS (
        ${
          q.siteCells
            ? `SELECT d.bucket, NULL::text AS project_id, s.site, s.meter, s.key, s.subkey, s.quantity
               FROM cell_days d JOIN report_usage_site_day_cell s ON s.day = d.day
               WHERE ${siteOk('s.site')}`
            : `SELECT m.bucket, s.project_id, s.site, s.meter, s.key, s.subkey, s.quantity
               FROM months m JOIN report_usage_month_cell s ON s.month = m.month
               WHERE ${projectOk('s.project_id')} AND ${siteOk('s.site')}
               UNION ALL
               SELECT d.bucket, s.project_id, s.site, s.meter, s.key, s.subkey, s.quantity
               FROM cell_days d JOIN report_usage_day_cell s ON s.day = d.day
               WHERE ${projectOk('s.project_id')} AND ${siteOk('s.site')}`
        }
        UNION ALL
        SELECT x.bucket, t.project_id, t.site, t.meter, t.key, t.subkey,
               t.closed_part + t.open_weight * extract(epoch FROM w.as_of) - t.open_anchor
        FROM classified x CROSS JOIN w JOIN report_usage_today_cell t ON t.day = x.day
        WHERE x.kind = 'today' AND ${projectOk('t.project_id')} AND ${siteOk('t.site')}
          AND NOT EXISTS (SELECT 1 FROM today_bad b WHERE b.project_id = t.project_id AND b.site = t.site)
        UNION ALL
        SELECT x.bucket, v.project_id, c.cloud, ${almMeter}, ${almKey}, '',
               sum(${weight} * extract(epoch FROM least(coalesce(v."end", 'infinity'), x.pe) - greatest(v.start, x.ps)))
        FROM classified x CROSS JOIN clock c
        JOIN almanach_entity_version v
          ON v.start < x.pe AND coalesce(v."end", 'infinity') > x.ps
         AND least(coalesce(v."end", 'infinity'), x.pe) > greatest(v.start, x.ps)
        WHERE ${wantsAlmanach} AND ${entityOk} AND ${projectOk('v.project_id')} AND ${siteOk('c.cloud')}
          AND (x.kind = 'raw' OR (x.kind = 'today' AND EXISTS (SELECT 1 FROM today_bad b WHERE b.project_id = v.project_id AND b.site = c.cloud)))
        GROUP BY 1, 2, 3, 4, 5
        UNION ALL
        SELECT x.bucket, r.local_project_id, r.site, m.meter, r.resource, m.subkey, sum(m.q)
        FROM classified x
        JOIN amie_usage_record r ON ${AMIE_INSTANT} >= x.ps AND ${AMIE_INSTANT} < x.pe
        CROSS JOIN ${AMIE_METERS}
        WHERE ${wantsAmie} AND ${projectOk('r.local_project_id')} AND ${siteOk('r.site')}
          AND (x.kind = 'raw' OR (x.kind = 'today' AND EXISTS (SELECT 1 FROM today_bad b WHERE b.project_id = r.local_project_id AND b.site = r.site)))
        GROUP BY 1, 2, 3, 4, 5, 6
      ),
      mapped AS (
        SELECT s.bucket, s.project_id, s.site, s.meter,
               CASE WHEN s.meter = 'instance.time' THEN coalesce(fl.name, s.key) ELSE s.key END AS key, s.subkey, s.quantity,
               (s.meter = 'instance.time' AND fl.name IS NULL) AS unsized, fl.vcpus, fl.ram_mb, fl.disk_gb
        FROM src s
        LEFT JOIN LATERAL (
          SELECT rf.name, rf.vcpus, rf.ram_mb, rf.disk_gb FROM report_flavor rf
          WHERE s.meter = 'instance.time'
            AND (rf.name = s.key OR rf.name = (SELECT a.flavor_name FROM report_flavor_alias a WHERE a.alias = s.key))
          LIMIT 1
        ) fl ON TRUE
      ),
      metered AS (
        SELECT bucket, project_id, site, meter, key, subkey, quantity, unsized FROM mapped
        UNION ALL SELECT bucket, project_id, site, 'instance.vcpu', key, subkey, quantity * vcpus, FALSE FROM mapped WHERE meter = 'instance.time' AND NOT unsized
        UNION ALL SELECT bucket, project_id, site, 'instance.ram', key, subkey, quantity * ram_mb, FALSE FROM mapped WHERE meter = 'instance.time' AND NOT unsized
        UNION ALL SELECT bucket, project_id, site, 'instance.disk', key, subkey, quantity * disk_gb, FALSE FROM mapped WHERE meter = 'instance.time' AND NOT unsized
      ),
      f AS (
        SELECT *, split_part(meter, '.', 1) AS source FROM metered
        WHERE (${meters} IS NULL OR meter = ANY(${meters}))
          AND (${sources} IS NULL OR split_part(meter, '.', 1) = ANY(${sources}))
          AND (${flavors} IS NULL OR (meter LIKE 'instance.%' AND key = ANY(${flavors})))
          AND (${volumeTypes} IS NULL OR (meter = 'volume.size' AND key = ANY(${volumeTypes})))
          AND (${resources} IS NULL OR (meter LIKE 'amie.%' AND key = ANY(${resources})))
          AND (${recordTypes} IS NULL OR (meter LIKE 'amie.%' AND subkey = ANY(${recordTypes})))
      ),
      res AS (
        SELECT b.bs AS period_start, b.be AS period_end, b.label AS period,
               ${pick('project_id')} AS project_id, ${pick('site')} AS site, f.source, f.meter,
               ${pick('key')} AS key, ${pick('subkey')} AS subkey,
               CASE WHEN f.meter = ANY(${timeMeters}) THEN round(sum(f.quantity), 6) ELSE sum(f.quantity) END AS quantity,
               bool_or(f.unsized) AS unsized
        FROM f JOIN buckets b ON b.bucket = f.bucket
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
      ),
      keyed AS (
        SELECT res.*, ${SORT_PARTS.map((part, i) => `${part} AS k${i + 1}`).join(', ')} FROM res
      )`;
    // The finest level the plan reads (ReportLevel): raw history for cut days (and for today when
    // a today cell is behind as_of), day or today cells per project, site-day cells for fleet
    // figures, month cells; an answer that reads no cell at all (nothing to read) counts as month.
    const level = `(SELECT CASE
        WHEN EXISTS (SELECT 1 FROM classified WHERE kind = 'raw')
          OR (EXISTS (SELECT 1 FROM classified WHERE kind = 'today') AND EXISTS (SELECT 1 FROM today_bad)) THEN 'raw'
        WHEN EXISTS (SELECT 1 FROM classified WHERE kind = 'today')${q.siteCells ? '' : ` OR EXISTS (SELECT 1 FROM cell_days)`} THEN 'day'
        WHEN EXISTS (SELECT 1 FROM cell_days) THEN 'site'
        ELSE 'month' END)`;
    return { cte, timeMeters, level };
  }

  /** Which cell level the report reads (for the CSV answer, whose rows do not carry it); the plan only, no cell is read. */
  async level(q: UsageQuery, sql: Sql = this.db): Promise<ReportLevel> {
    const p = new Params();
    const { cte, level } = this.reportCte(q, p);
    const row = await runOne<{ level: ReportLevel }>(sql, `${cte} SELECT ${level} AS level`, p.values);
    return row!.level;
  }

  /**
   * Every row of the report in keyset order, as one statement for the CSV
   * export (reports.md §1.7): no page, no totals; decimals as text.
   */
  csvStatement(q: UsageQuery): { sql: string; params: unknown[] } {
    const p = new Params();
    const { cte } = this.reportCte(q, p);
    return {
      sql: `${cte}
      SELECT to_char(period_start AT TIME ZONE 'UTC', ${UTC_MICROS}) AS period_start, to_char(period_end AT TIME ZONE 'UTC', ${UTC_MICROS}) AS period_end,
             period, project_id, site, source, meter, key, subkey, quantity::text AS quantity, unsized
      FROM keyed ORDER BY ${SORT_COLUMNS}`,
      params: p.values,
    };
  }

  async aggregate(q: UsageQuery, sql: Sql = this.db): Promise<UsageAnswer> {
    const p = new Params();
    const { cte, timeMeters, level } = this.reportCte(q, p);
    const limit = p.add(q.limit + 1, 'int');
    const text = `${cte}
      SELECT
        (SELECT coalesce(json_agg(json_build_object(
                  'period_start', to_char(period_start AT TIME ZONE 'UTC', ${UTC_MICROS}),
                  'period_end', to_char(period_end AT TIME ZONE 'UTC', ${UTC_MICROS}),
                  'period', period, 'project_id', project_id, 'site', site, 'source', source, 'meter', meter,
                  'key', key, 'subkey', subkey, 'quantity', quantity::text, 'unsized', unsized,
                  'sort_key', json_build_array(${SORT_COLUMNS}))
                ORDER BY ${SORT_COLUMNS}), '[]'::json)
         FROM (SELECT * FROM keyed ${q.after ? `WHERE ROW(${SORT_COLUMNS}) > ${p.addRow(q.after)}` : ''} ORDER BY ${SORT_COLUMNS} LIMIT ${limit}) page) AS rows,
        (SELECT coalesce(json_agg(json_build_object('meter', meter, 'quantity', quantity::text) ORDER BY meter), '[]'::json)
         FROM (SELECT meter, CASE WHEN meter = ANY(${timeMeters}) THEN round(sum(quantity), 6) ELSE sum(quantity) END AS quantity FROM res GROUP BY meter) t) AS totals,
        (SELECT coalesce(json_agg(DISTINCT key ORDER BY key), '[]'::json) FROM f WHERE unsized) AS unsized_keys,
        (SELECT coalesce(json_agg(json_build_array(meter, key) ORDER BY meter, key), '[]'::json)
         FROM (SELECT DISTINCT meter, key FROM f) mk) AS meter_keys,
        ${level} AS level`;
    const row = await runOne<UsageAnswer>(sql, text, p.values);
    return row!;
  }

  /** How fresh the rollups are for the window and scope (§3.1, §5.5). */
  async freshness(start: string, endCut: string, projects: string[] | null, sites: string[] | null, sql: Sql = this.db): Promise<Freshness> {
    const row = await runOne<Freshness>(
      sql,
      `WITH c AS (SELECT time_zone AS atz, booked_day FROM report_clock WHERE id = 1)
       SELECT count(k.*)::int AS pending_cells,
              coalesce(floor(extract(epoch FROM now() - min(k.first_dirtied_at))), 0)::int AS lag_seconds,
              c.booked_day::text AS booked_day, report_local_day($2::timestamptz - interval '1 microsecond', c.atz)::text AS last_day
       FROM c LEFT JOIN report_dirty_key k
         ON k.day >= report_local_day($1::timestamptz, c.atz) AND k.day <= report_local_day($2::timestamptz - interval '1 microsecond', c.atz)
        AND ($3::text[] IS NULL OR k.project_id = ANY($3::text[])) AND ($4::text[] IS NULL OR k.site = ANY($4::text[]))
       GROUP BY c.booked_day, c.atz`,
      [start, endCut, projects, sites],
    );
    return row!;
  }
}

/**
 * The keyset order of §3.1 as one composite value: period_start, then
 * project_id, site, source, key, subkey (nulls first), meter; strings in
 * byte order (COLLATE "C"). Each nullable column is (is not null, value).
 */
const SORT_PARTS = [
  `to_char(period_start AT TIME ZONE 'UTC', ${UTC_MICROS}) COLLATE "C"`,
  `project_id IS NOT NULL`,
  `coalesce(project_id, '') COLLATE "C"`,
  `site IS NOT NULL`,
  `coalesce(site, '') COLLATE "C"`,
  `source COLLATE "C"`,
  `key IS NOT NULL`,
  `coalesce(key, '') COLLATE "C"`,
  `subkey IS NOT NULL`,
  `coalesce(subkey, '') COLLATE "C"`,
  `meter COLLATE "C"`,
];
const SORT_COLUMNS = SORT_PARTS.map((_, i) => `k${i + 1}`).join(', ');

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
