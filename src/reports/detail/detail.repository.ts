import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runRows, Sql } from '../../database/query-result';
import { AMIE_INSTANT, AMIE_METERS } from '../rollups/usage-sql';
import { UTC_MICROS } from '../window/window.repository';
import { applicableListId } from '../rating/price-lists/applicable-list-sql';

/** What the detail lines are computed for: a window, the Almanach site and the filters of §3.1 (absent: no filter). */
export interface DetailQuery {
  /** Window start, a UTC instant. */
  start: string;
  /** Window end (exclusive), a UTC instant; figures stop at min(end, asOf). */
  end: string;
  /** The answer's evaluation instant. */
  asOf: string;
  /** CLOUD_SITE: the site of Almanach lines (§2.3). */
  cloudSite: string;
  projects?: string[];
  sites?: string[];
  sources?: string[];
  meters?: string[];
  flavors?: string[];
  volumeTypes?: string[];
  resources?: string[];
  recordTypes?: string[];
  /** Cost lines in this currency (§3.2, §4.5); absent: no cost columns are computed. */
  currency?: string;
}

/** One detail line as the database gives it: decimals and instants as text. */
export interface DetailLineRow {
  project_id: string;
  site: string;
  source: string;
  entity_id: string;
  name: string | null;
  meter: string;
  key: string;
  subkey: string;
  /** UTC, six fractional digits, `Z`. */
  span_start: string;
  span_end: string;
  quantity: string;
  unsized: boolean;
  vcpus: number | null;
  ram_mb: number | null;
  disk_gb: number | null;
  size_gb: number | null;
  username: string | null;
  local_record_id: string | null;
  record_type: string | null;
  /** The line's informative cost (six digits) when every day of it is priced; null otherwise or without a currency. */
  cost: string | null;
  /** Whether an item prices every local day of the line; null without a currency. */
  priced: boolean | null;
  /** Last member of the order: the version id (zero-padded) or the record identity. */
  tie: string;
}

/** Sums over the whole result: all lines (meter and key null), per meter (key null) and per meter and key. */
export interface DetailSumRow {
  meter: string | null;
  key: string | null;
  unsized: boolean;
  quantity: string | null;
  /** Σ of the priced lines' costs (null: none priced, or no currency). */
  cost: string | null;
  /** Some line is unpriced (with a currency). */
  unpriced: boolean;
}

/** The keyset of the order of §3.2: project_id, source, entity_id, span_start, meter, then the version id or record identity. */
export const DETAIL_KEYSET = ['project_id', 'source', 'entity_id', 'span_start', 'meter', 'tie'] as const;

/** A statement and its parameters, as a streaming exporter takes them. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Detail lines from raw history (reports.md §3.2): Almanach versions clipped
 * to [start, min(end, as_of)) — one instance.time line, plus one per derived
 * meter when the flavor is in the catalogue, or one volume.size line — and
 * one line per AMIE meter of each record attributed inside the window.
 */
@Injectable()
export class DetailRepository {
  constructor(private readonly db: DataSource) {}

  /** Every line in the order of §3.2, as one SELECT (for a CSV export: same columns as a page, no limit). */
  linesStatement(query: DetailQuery): Statement {
    return { sql: `${withLines()} SELECT ${OUTPUT} FROM lines l ${costOf(query)} ORDER BY ${ORDER}`, params: params(query) };
  }

  /** At most `limit` lines after the keyset `after` (null: from the first); only the page's lines are costed. */
  async page(query: DetailQuery, after: string[] | null, limit: number, sql: Sql = this.db): Promise<DetailLineRow[]> {
    const p = params(query);
    let where = '';
    if (after) {
      const n = p.length;
      p.push(...after);
      where = `WHERE (l.project_id COLLATE "C", l.source COLLATE "C", l.entity_id COLLATE "C", l.span_start, l.meter COLLATE "C", l.tie COLLATE "C")
                   > ($${n + 1}::text COLLATE "C", $${n + 2}::text COLLATE "C", $${n + 3}::text COLLATE "C", $${n + 4}::timestamptz, $${n + 5}::text COLLATE "C", $${n + 6}::text COLLATE "C")`;
    }
    p.push(limit);
    return runRows<DetailLineRow>(
      sql,
      `${withLines()}, page AS (SELECT * FROM lines l ${where} ORDER BY ${ORDER} LIMIT $${p.length})
       SELECT ${OUTPUT} FROM page l ${costOf(query)} ORDER BY ${ORDER}`,
      p,
    );
  }

  /**
   * Quantities and costs of the whole result: in all (meter and key null),
   * per meter, and per meter and key (with whether the key is an unsized
   * flavor and whether some line of it is unpriced).
   */
  async sums(query: DetailQuery, sql: Sql = this.db): Promise<DetailSumRow[]> {
    return runRows<DetailSumRow>(
      sql,
      `${withLines()}
       SELECT CASE WHEN GROUPING(l.meter) = 1 THEN NULL ELSE l.meter END AS meter, CASE WHEN GROUPING(l.key) = 1 THEN NULL ELSE l.key END AS key,
              coalesce(bool_or(l.unsized), false) AS unsized, sum(l.quantity)::text AS quantity,
              (sum(c.cost) FILTER (WHERE c.priced))::text AS cost, coalesce(bool_or(NOT c.priced), false) AS unpriced
       FROM lines l ${costOf(query)}
       GROUP BY GROUPING SETS ((), (l.meter), (l.meter, l.key))
       ORDER BY GROUPING(l.meter) DESC, l.meter COLLATE "C", GROUPING(l.key) DESC, l.key COLLATE "C"`,
      params(query),
    );
  }
}

const OUTPUT = `l.project_id, l.site, l.source, l.entity_id, l.name, l.meter, l.key, l.subkey,
  to_char(l.span_start AT TIME ZONE 'UTC', ${UTC_MICROS}) AS span_start,
  to_char(l.span_end AT TIME ZONE 'UTC', ${UTC_MICROS}) AS span_end,
  l.quantity::text AS quantity, l.unsized, l.vcpus, l.ram_mb, l.disk_gb, l.size_gb,
  l.username, l.local_record_id, l.record_type, c.cost::text AS cost, c.priced, l.tie`;

const ORDER = `l.project_id COLLATE "C", l.source COLLATE "C", l.entity_id COLLATE "C", l.span_start, l.meter COLLATE "C", l.tie COLLATE "C"`;

function params(q: DetailQuery): unknown[] {
  const list = (values?: string[]) => (values === undefined ? null : values);
  const currency = q.currency === undefined ? [] : [q.currency];
  return [
    q.start,
    q.end,
    q.asOf,
    q.cloudSite,
    list(q.projects),
    list(q.sites),
    list(q.sources),
    list(q.meters),
    list(q.flavors),
    list(q.volumeTypes),
    list(q.resources),
    list(q.recordTypes),
    ...currency,
  ];
}

/**
 * The cost of each line of `l` (reports.md 3.2 decision, 4.5) as `c.cost`
 * and `c.priced`: the line cut into the local days of the accounting zone
 * (an AMIE line lies in the day of its instant), each day's piece priced by
 * the item of the project's applicable list in the currency ($13) that is
 * live for that day (`report_price_item_at`), and one half-even rounding
 * for the whole line: `report_rated_cost(1, Σ unit_price × piece, price_unit)`,
 * which is `report_rated_cost(unit_price, quantity, price_unit)` when one
 * item prices every day. A day no item prices leaves the line unpriced
 * (cost null). Line costs are informative: the report's cost rounds per
 * rated cell, so sums may differ in the last digits. Without a currency
 * both columns are null.
 */
function costOf(q: DetailQuery): string {
  if (q.currency === undefined) return `CROSS JOIN LATERAL (SELECT NULL::numeric AS cost, NULL::boolean AS priced) c`;
  return `CROSS JOIN LATERAL (
      SELECT CASE WHEN count(i.id) = count(*) THEN report_rated_cost(1, sum(i.unit_price * pc.q), min(i.price_unit)) END AS cost,
             count(i.id) = count(*) AS priced
      FROM (SELECT time_zone AS atz FROM report_clock WHERE id = 1) clk
      CROSS JOIN LATERAL (
        SELECT report_local_day(l.span_start, clk.atz) AS day, l.quantity AS q WHERE l.source = 'amie'
        UNION ALL
        SELECT d.day::date, l.weight * extract(epoch FROM least(l.span_end, report_day_start(d.day::date + 1, clk.atz)) - greatest(l.span_start, report_day_start(d.day::date, clk.atz)))
        FROM generate_series(report_local_day(l.span_start, clk.atz), report_local_day(l.span_end - interval '1 microsecond', clk.atz), interval '1 day') AS d(day)
        WHERE l.source <> 'amie'
      ) pc
      LEFT JOIN LATERAL report_price_item_at(${applicableListId('l.project_id', '$13::text')}, pc.day, l.meter, l.key, l.subkey) i ON TRUE
    ) c`;
}

/** The window's start, and its end cut at as_of: [S, E). */
const S = `$1::timestamptz`;
const E = `least($2::timestamptz, $3::timestamptz)`;

/** The flavor catalogue entry a stored flavor string names (a catalogue name, else an alias). */
const CATALOGUE = `LEFT JOIN LATERAL (
    SELECT c.name, c.vcpus, c.ram_mb, c.disk_gb FROM report_flavor c WHERE c.name = v.flavor
    UNION ALL
    SELECT c.name, c.vcpus, c.ram_mb, c.disk_gb FROM report_flavor_alias a JOIN report_flavor c ON c.name = a.flavor_name WHERE a.alias = v.flavor
    LIMIT 1
  ) f ON true`;

/**
 * `WITH lines`: every line of the window [start, min(end, as_of)) (timestamps and numerics unformatted), filters applied. Parameters:
 * $1 start, $2 end, $3 as_of, $4 cloud site, $5 projects, $6 sites,
 * $7 sources, $8 meters, $9 flavors, $10 volume types, $11 resources,
 * $12 record types (a null list: no filter).
 */
function withLines(): string {
  const almanach = `
      FROM almanach_entity_version v
      CROSS JOIN LATERAL (SELECT greatest(v.start, ${S}) AS a, least(coalesce(v."end", ${E}), ${E}) AS b) sp`;
  const almanachWhere = `v.start < ${E} AND coalesce(v."end", 'infinity') > ${S} AND sp.b > sp.a
       AND ($5::text[] IS NULL OR v.project_id = ANY($5::text[])) AND ($6::text[] IS NULL OR $4::text = ANY($6::text[])) AND ($7::text[] IS NULL OR v.entity_type = ANY($7::text[]))`;
  return `WITH lines AS (
    SELECT * FROM (
      SELECT v.project_id, $4::text AS site, 'instance'::text AS source, v.entity_id, v.name, m.meter,
             coalesce(f.name, v.flavor, '') AS key, ''::text AS subkey, sp.a AS span_start, sp.b AS span_end,
             m.weight * extract(epoch FROM sp.b - sp.a) AS quantity, m.weight::numeric AS weight, f.name IS NULL AS unsized,
             f.vcpus, f.ram_mb, f.disk_gb, NULL::integer AS size_gb,
             NULL::text AS username, NULL::text AS local_record_id, NULL::text AS record_type, lpad(v.id::text, 20, '0') AS tie
      ${almanach}
      ${CATALOGUE}
      CROSS JOIN LATERAL (
        SELECT 'instance.time'::text, 1
        UNION ALL SELECT 'instance.vcpu', f.vcpus WHERE f.name IS NOT NULL
        UNION ALL SELECT 'instance.ram', f.ram_mb WHERE f.name IS NOT NULL
        UNION ALL SELECT 'instance.disk', f.disk_gb WHERE f.name IS NOT NULL
      ) AS m(meter, weight)
      WHERE ${almanachWhere} AND v.entity_type = 'instance'
      UNION ALL
      SELECT v.project_id, $4::text, 'volume', v.entity_id, v.name, 'volume.size',
             coalesce(v.volume_type, ''), '', sp.a, sp.b,
             coalesce(v.size, 0) * extract(epoch FROM sp.b - sp.a), coalesce(v.size, 0), false,
             NULL::integer, NULL::integer, NULL::integer, v.size,
             NULL, NULL, NULL, lpad(v.id::text, 20, '0')
      ${almanach}
      WHERE ${almanachWhere} AND v.entity_type = 'volume'
      UNION ALL
      SELECT r.local_project_id, r.site, 'amie', i.identity, r.record->'Attributes'->>'JobName', m.meter,
             r.resource, m.subkey, ${AMIE_INSTANT}, ${AMIE_INSTANT},
             m.q, NULL::numeric, false, NULL::integer, NULL::integer, NULL::integer, NULL::integer,
             r.username, r.local_record_id, m.subkey, i.identity
      FROM amie_usage_record r
      CROSS JOIN LATERAL (SELECT r.site || '/' || lower(r.usage_type) || '/' || r.resource || '/' || r.local_record_id AS identity) i
      CROSS JOIN ${AMIE_METERS}
      WHERE ${AMIE_INSTANT} >= ${S} AND ${AMIE_INSTANT} < ${E}
        AND ($5::text[] IS NULL OR r.local_project_id = ANY($5::text[]))
        AND ($6::text[] IS NULL OR r.site = ANY($6::text[]))
        AND ($7::text[] IS NULL OR 'amie' = ANY($7::text[]))
    ) x
    WHERE ($8::text[] IS NULL OR x.meter = ANY($8::text[]))
      AND ($9::text[] IS NULL OR (x.source = 'instance' AND x.key = ANY($9::text[])))
      AND ($10::text[] IS NULL OR (x.source = 'volume' AND x.key = ANY($10::text[])))
      AND ($11::text[] IS NULL OR (x.source = 'amie' AND x.key = ANY($11::text[])))
      AND ($12::text[] IS NULL OR (x.source = 'amie' AND x.subkey = ANY($12::text[])))
  )`;
}
