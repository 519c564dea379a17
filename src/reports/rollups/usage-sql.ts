/**
 * The SQL that turns raw history into usage (reports.md §2.1, §2.2), written
 * once: the day and today cells of the rollup worker and the consistency
 * check, and the meters (AMIE_INSTANT, AMIE_METERS, the flavor mapping) that
 * the reports reading raw fragments share. Each cell fragment takes a
 * relation `k` with columns (project_id, site, day, s, e): a project, a site,
 * the local day the figures belong to and the span [s, e) to measure inside
 * it.
 */

/** Meter, key and weight of an Almanach version `v` (instance: 1 per second; volume: its size in GB). */
const ALMANACH_METER = `CASE v.entity_type WHEN 'instance' THEN 'instance.time' ELSE 'volume.size' END`;
const ALMANACH_KEY = `CASE v.entity_type WHEN 'instance' THEN coalesce(v.flavor, '') ELSE coalesce(v.volume_type, '') END`;
const ALMANACH_WEIGHT = `CASE v.entity_type WHEN 'instance' THEN 1 ELSE coalesce(v.size, 0) END`;

/** The attribution instant of AMIE record `r` (§2.2). */
export const AMIE_INSTANT = `coalesce(r.usage_end, r.usage_start)`;

/** The record type (subkey) of AMIE record `r`. */
export const AMIE_SUBKEY = `CASE r.usage_type WHEN 'Compute' THEN 'compute' WHEN 'Storage' THEN 'storage' ELSE 'adjustment:' || coalesce(r.adjustment_type, '') END`;

/** AMIE record `r`'s charge, signed: credits and refunds count against usage. */
const AMIE_SIGNED_CHARGE = `CASE WHEN r.adjustment_type IN ('credit', 'refund', 'storage-credit') THEN -r.charge ELSE r.charge END`;
/** Node time and core time of AMIE record `r`, and whether it has them (compute records with the attribute). */
const AMIE_NODE_TIME = `(r.record->'Attributes'->>'NodeCount')::numeric * extract(epoch FROM r.usage_end - r.usage_start)`;
const AMIE_HAS_NODES = `r.usage_type = 'Compute' AND r.record->'Attributes'->>'NodeCount' IS NOT NULL`;
const AMIE_CORE_TIME = `(r.record->'Attributes'->>'CpuCoreCount')::numeric * extract(epoch FROM r.usage_end - r.usage_start)`;
const AMIE_HAS_CORES = `r.usage_type = 'Compute' AND r.record->'Attributes'->>'CpuCoreCount' IS NOT NULL`;

/**
 * The AMIE meters one record `r` feeds, as a LATERAL relation m(meter, subkey, q):
 * the signed charge, and for compute records node and core time.
 */
export const AMIE_METERS = `LATERAL (
    SELECT 'amie.charge', ${AMIE_SUBKEY},
           ${AMIE_SIGNED_CHARGE}
    UNION ALL
    SELECT 'amie.node_time', 'compute', ${AMIE_NODE_TIME}
    WHERE ${AMIE_HAS_NODES}
    UNION ALL
    SELECT 'amie.core_time', 'compute', ${AMIE_CORE_TIME}
    WHERE ${AMIE_HAS_CORES}
  ) AS m(meter, subkey, q)`;

/**
 * Today cells of the AMIE meters (§2.2) of the records of each key of `k`,
 * attributed inside its span: per key, resource and record type, the same
 * sums, counts and latest instant as grouping AMIE_METERS by meter, taken in
 * one pass over the records and then split into the meters. A today cell is
 * recomputed from the whole day (§7.2): row by row through AMIE_METERS, a
 * recomputation of 20 projects holding 220,000 records of the day sorted
 * three rows per record (an external sort of 100 MB) where this sorts one.
 */
function amieTodayOfKeys(k: string, bounds?: KeyBounds): string {
  return `
    SELECT a.project_id, a.site, a.day, m.meter, a.resource, m.subkey, m.q, 0, 0, NULL::timestamptz, m.latest, m.n::int
    FROM (
      SELECT k.project_id, k.site, k.day, r.resource, ${AMIE_SUBKEY} AS subkey,
             sum(${AMIE_SIGNED_CHARGE}) AS charge,
             count(*) AS records, max(${AMIE_INSTANT}) AS latest,
             sum(${AMIE_NODE_TIME}) FILTER (WHERE ${AMIE_HAS_NODES}) AS node_q, count(*) FILTER (WHERE ${AMIE_HAS_NODES}) AS node_n,
             max(${AMIE_INSTANT}) FILTER (WHERE ${AMIE_HAS_NODES}) AS node_latest,
             sum(${AMIE_CORE_TIME}) FILTER (WHERE ${AMIE_HAS_CORES}) AS core_q, count(*) FILTER (WHERE ${AMIE_HAS_CORES}) AS core_n,
             max(${AMIE_INSTANT}) FILTER (WHERE ${AMIE_HAS_CORES}) AS core_latest
      FROM ${k} k
      JOIN amie_usage_record r
        ON r.local_project_id = k.project_id AND r.site = k.site
       AND ${AMIE_INSTANT} >= k.s AND ${AMIE_INSTANT} < k.e
      ${bounds ? `WHERE ${AMIE_INSTANT} >= report_day_start(${bounds.firstDay}::date, ${bounds.tz}) AND ${AMIE_INSTANT} < report_day_start(${bounds.lastDay}::date + 1, ${bounds.tz})` : ''}
      GROUP BY 1, 2, 3, 4, 5
    ) a
    CROSS JOIN LATERAL (VALUES ('amie.charge', a.subkey, a.charge, a.records, a.latest),
                               ('amie.node_time', 'compute', a.node_q, a.node_n, a.node_latest),
                               ('amie.core_time', 'compute', a.core_q, a.core_n, a.core_latest)) AS m(meter, subkey, q, n, latest)
    WHERE m.n > 0`;
}

/**
 * The local days of `k` a span [a, b) can meet, as a LATERAL relation
 * d(day): the local dates of its ends, one day wider on each side (an
 * instant of a midnight taken back, Havana's or Santiago's, has the local
 * date before the day it belongs to, §1.5), cut to [first, last]. Each
 * candidate is then held to the key's exact [s, e).
 */
function candidateDays(a: string, b: string, first: string, last: string, tz: string): string {
  return `LATERAL (
      SELECT c.lo + g AS day
      FROM (SELECT greatest(report_local_day(${a}, ${tz}) - 1, ${first}) AS lo,
                   least(report_local_day(${b}, ${tz}) + 1, ${last}) AS hi) c
      CROSS JOIN generate_series(0, c.hi - c.lo) AS g
    ) d`;
}

/**
 * Day cells of the spans in `k`: (project_id, site, day, meter, key, subkey,
 * quantity, items). `$site` is the Almanach site; open versions are measured
 * up to `openEnd` (the drain and the check pass `'infinity'`: they recompute
 * booked days, which no open version ends inside).
 *
 * The batch is read from the history's side (§7.2, issue 9): the versions
 * and records of the batch's projects inside its span (`bounds`: one index
 * range per project and site, pruned to the partitions the span meets), each
 * spread over the days it can meet and hash-joined to the keys by (project,
 * site, day). Joined from the keys' side, each key searched the project's
 * versions that started before its end: the same versions once per day of
 * the batch (a 500-day batch of one project: 500 searches of about 20
 * partitions each), and the records of the span were hashed whole whatever
 * the keys' sites.
 *
 * A version is measured row by row only on the days near its ends, where it
 * may cover part of a day. The days between (two days in from each end's
 * local date: an instant's day is within one of its local date) it covers
 * whole, and when no other version of its entity overlaps it (`alone`), it
 * is the entity's only version there: those days are counted, not listed,
 * by a running sum per (project, meter, key) of its weight and of one entity
 * from its first such day to its last (`ev`, `run`), times each day's length.
 * Listing every (version, day) cost a dense project (430 instances at once)
 * 214,000 rows and two sorts for a 500-day batch. The sums are exact
 * (`numeric`, six digits either way), and an entity is counted once a day:
 * listed rows by distinct entity, whole days once per version, never both
 * for one entity and day.
 */
export function usageCellsSql(k: string, site: string, openEnd: string, bounds: KeyBounds): string {
  const instant = AMIE_INSTANT;
  const tz = bounds.tz;
  const between = (lo: string, hi: string) => `generate_series(0, CASE WHEN ${lo} <= ${hi} THEN ${hi} - ${lo} ELSE -1 END)`;
  // MATERIALIZED, and OFFSET 0 in the LATERAL reads: otherwise the planner, which guesses 100 keys for an unnest,
  // turns back to a search per key, or hashes every record of the span (a seq scan) for a batch with no AMIE key.
  return `
    WITH kk AS MATERIALIZED (
      SELECT * FROM ${k} k
    ), kb AS MATERIALIZED (
      SELECT project_id, site, min(day) AS first, max(day) AS last FROM kk GROUP BY 1, 2
    ), vs AS MATERIALIZED (
      SELECT v.project_id, v.entity_id, v.start, coalesce(v."end", ${openEnd}) AS stop,
             ${ALMANACH_METER} AS meter, ${ALMANACH_KEY} AS key, ${ALMANACH_WEIGHT} AS weight, kb.first, kb.last,
             report_local_day(v.start, ${tz}) AS d0, report_local_day(coalesce(v."end", ${openEnd}), ${tz}) AS d1,
             -- No other version of the entity overlaps it: none before it ends after its start (the latest end so far,
             -- not the previous version's: an open version overlaps all that follow), and the next does not start before its end.
             coalesce(max(coalesce(v."end", 'infinity')) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) <= v.start, true)
               AND coalesce(lead(v.start) OVER w >= coalesce(v."end", 'infinity'), true) AS alone
      FROM kb
      CROSS JOIN LATERAL (
        SELECT v.* FROM almanach_entity_version v
        ${boundsWhere(bounds)} AND v.project_id = kb.project_id
          AND v.start < report_day_start(kb.last + 1, ${tz}) AND coalesce(v."end", 'infinity') > report_day_start(kb.first, ${tz})
        OFFSET 0
      ) v
      WHERE kb.site = ${site}
      WINDOW w AS (PARTITION BY v.entity_id ORDER BY v.start, v.id)
    ), edges AS MATERIALIZED (
      SELECT v.project_id, v.entity_id, v.start, v.stop, v.meter, v.key, v.weight, d.day
      FROM vs v
      CROSS JOIN LATERAL (
        SELECT x.lo + g AS day FROM (SELECT greatest(v.d0 - 1, v.first) AS lo,
                                            CASE WHEN v.alone THEN least(v.d0 + 1, v.d1 + 1, v.last) ELSE least(v.d1 + 1, v.last) END AS hi) x
        CROSS JOIN ${between('x.lo', 'x.hi')} AS g
        UNION ALL
        SELECT x.lo + g FROM (SELECT greatest(v.d1 - 1, v.d0 + 2, v.first) AS lo, least(v.d1 + 1, v.last) AS hi) x
        CROSS JOIN ${between('x.lo', 'x.hi')} AS g
        WHERE v.alone
      ) d
    ), listed AS (
      SELECT k.project_id, k.site, k.day, v.meter, v.key, v.entity_id, sum(v.weight * extract(epoch FROM least(v.stop, k.e) - greatest(v.start, k.s))) AS q
      FROM edges v
      JOIN kk k ON k.project_id = v.project_id AND k.day = v.day AND k.site = ${site}
      WHERE least(v.stop, k.e) > greatest(v.start, k.s)
      GROUP BY 1, 2, 3, 4, 5, 6
    ), ev AS (
      -- A version's whole days [a, b]: its weight and one entity from a, taken back after b.
      SELECT v.project_id, v.meter, v.key, e.day, sum(e.dw) AS dw, sum(e.dn) AS dn
      FROM vs v
      CROSS JOIN LATERAL (SELECT greatest(v.d0 + 2, v.first) AS a, least(v.d1 - 2, v.last) AS b) x
      CROSS JOIN LATERAL (VALUES (x.a, v.weight::bigint, 1), (x.b + 1, -(v.weight::bigint), -1)) AS e(day, dw, dn)
      WHERE v.alone AND x.a <= x.b
      GROUP BY 1, 2, 3, 4
    ), run AS MATERIALIZED (
      SELECT r.project_id, r.site, r.meter, r.key, r.day, r.s, r.e, r.at_key, sum(r.dw) OVER w AS w, sum(r.dn) OVER w AS n
      FROM (
        SELECT project_id, NULL AS site, meter, key, day, NULL::timestamptz AS s, NULL::timestamptz AS e, false AS at_key, dw, dn FROM ev
        UNION ALL
        SELECT c.project_id, k.site, c.meter, c.key, k.day, k.s, k.e, true, 0, 0
        FROM (SELECT DISTINCT project_id, meter, key FROM ev) c
        JOIN kk k ON k.project_id = c.project_id AND k.site = ${site}
      ) r
      WINDOW w AS (PARTITION BY r.project_id, r.meter, r.key ORDER BY r.day)
    ), rd AS MATERIALIZED (
      SELECT r.local_project_id AS project_id, r.site, r.resource, ${instant} AS instant, m.meter, m.subkey, m.q, d.day
      FROM kb
      CROSS JOIN LATERAL (
        SELECT r.* FROM amie_usage_record r
        WHERE r.local_project_id = kb.project_id AND r.site = kb.site
          AND ${instant} >= report_day_start(kb.first, ${tz}) AND ${instant} < report_day_start(kb.last + 1, ${tz})
          AND ${instant} >= report_day_start(${bounds.firstDay}::date, ${tz}) AND ${instant} < report_day_start(${bounds.lastDay}::date + 1, ${tz})
        OFFSET 0
      ) r
      CROSS JOIN ${candidateDays(instant, instant, 'kb.first', 'kb.last', tz)}
      CROSS JOIN ${AMIE_METERS}
    )
    SELECT x.project_id, x.site, x.day, x.meter, x.key, '' AS subkey, sum(x.q) AS quantity, sum(x.n)::int AS items
    FROM (
      SELECT project_id, site, day, meter, key, sum(q) AS q, count(*) AS n FROM listed GROUP BY 1, 2, 3, 4, 5
      UNION ALL
      -- The key's own row of the running sum carries its span: joined back to the keys instead, the planner (one key
      -- estimated) ran the window once per key, 3.3 s of a 4.5 s batch at 20M versions.
      SELECT r.project_id, r.site, r.day, r.meter, r.key, r.w * extract(epoch FROM r.e - r.s), r.n
      FROM run r
      -- r.e > r.s: a day a zone skipped whole (Pacific/Apia, 2011-12-30) has an empty span and, as listed, no cell.
      WHERE r.at_key AND r.n > 0 AND r.e > r.s
    ) x
    GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT k.project_id, k.site, k.day, r.meter, r.resource, r.subkey, sum(r.q), count(*)::int
    FROM rd r
    JOIN kk k ON k.project_id = r.project_id AND k.site = r.site AND k.day = r.day
    WHERE r.instant >= k.s AND r.instant < k.e
    GROUP BY 1, 2, 3, 4, 5, 6`;
}

/**
 * Today cells (§7.2) of the keys in `k`, whose [s, e) is the booked day:
 * closed_part, open_weight, open_anchor (epoch seconds), max_open_start,
 * max_closed_end, items.
 */
export function todayCellsSql(k: string, site: string, bounds?: KeyBounds): string {
  return `
    SELECT k.project_id, k.site, k.day, ${ALMANACH_METER} AS meter, ${ALMANACH_KEY} AS key, '' AS subkey,
           coalesce(sum(${ALMANACH_WEIGHT} * extract(epoch FROM least(v."end", k.e) - greatest(v.start, k.s))) FILTER (WHERE v."end" IS NOT NULL), 0) AS closed_part,
           coalesce(sum(${ALMANACH_WEIGHT}) FILTER (WHERE v."end" IS NULL), 0) AS open_weight,
           coalesce(sum(${ALMANACH_WEIGHT} * extract(epoch FROM greatest(v.start, k.s))) FILTER (WHERE v."end" IS NULL), 0) AS open_anchor,
           max(v.start) FILTER (WHERE v."end" IS NULL) AS max_open_start,
           max(least(v."end", k.e)) FILTER (WHERE v."end" IS NOT NULL) AS max_closed_end,
           count(DISTINCT v.entity_id)::int AS items
    FROM ${k} k
    JOIN almanach_entity_version v
      ON k.site = ${site} AND v.project_id = k.project_id
     AND v.start < k.e AND coalesce(v."end", 'infinity') > k.s
     AND (v."end" IS NULL OR least(v."end", k.e) > greatest(v.start, k.s))
    ${boundsWhere(bounds)}
    GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    ${amieTodayOfKeys(k, bounds)}`;
}

/**
 * The first and last day of a batch of keys and their zone, as SQL
 * expressions of the statement's parameters (not of the keys' rows).
 */
export interface KeyBounds {
  firstDay: string;
  lastDay: string;
  tz: string;
}

/**
 * The batch's span as constant bounds on the versions (§7.3): the join's
 * overlap test is per key, which the planner cannot prune partitions with,
 * so a batch of today's keys joined the whole history (a hash join over
 * every version: 1.46 s for 500 keys at 1M versions, the drain holding its
 * keys and the writers waiting on them). These bounds hold for every version
 * the per-key test keeps, and prune to the partitions the batch can meet.
 */
function boundsWhere(bounds: KeyBounds | undefined): string {
  if (!bounds) return '';
  return `WHERE v.start < report_day_start(${bounds.lastDay}::date + 1, ${bounds.tz})
      AND coalesce(v."end", 'infinity') > report_day_start(${bounds.firstDay}::date, ${bounds.tz})`;
}

/** The first and last day of `keys` (days `YYYY-MM-DD`), for KeyBounds' parameters. */
export function dayRange(keys: { day: string }[]): [string, string] {
  let first = keys[0].day;
  let last = keys[0].day;
  for (const { day } of keys) {
    if (day < first) first = day;
    if (day > last) last = day;
  }
  return [first, last];
}

/**
 * A relation of keys (project_id, site, day, s, e) from three parallel arrays
 * $1, $2, $3 and the zone `tz` (a parameter). `OFFSET 0` keeps the subquery
 * from being pulled up: otherwise the planner copies the (not inlinable)
 * report_day_start calls into the join filter, evaluated for every version
 * the index scan visits instead of once per key (4× the drain's time).
 */
export function keysRelation(tz: string): string {
  return `(SELECT u.project_id, u.site, u.day, report_day_start(u.day, ${tz}) AS s, report_day_start(u.day + 1, ${tz}) AS e
           FROM unnest($1::text[], $2::text[], $3::date[]) AS u(project_id, site, day) OFFSET 0)`;
}

/**
 * The flavor mapping of reports.md 2.1 and 2.4 (a catalogue name or alias →
 * the flavor) as a relation fl(k, name, vcpus, ram_mb,
 * disk_gb) of every string that maps to a flavor (each name and each alias;
 * the name first, should a string be both), to join by `fl.k = key`: a hash
 * join reads the catalogue once, where `flavorOf` runs its subquery once per
 * row (2 s of an 860k-row report).
 */
export const FLAVOR_KEYS = `(SELECT DISTINCT ON (m.k) m.k, m.name, m.vcpus, m.ram_mb, m.disk_gb FROM (
        SELECT rf.name AS k, rf.name, rf.vcpus, rf.ram_mb, rf.disk_gb, 0 AS pref FROM report_flavor rf
        UNION ALL
        SELECT a.alias, rf.name, rf.vcpus, rf.ram_mb, rf.disk_gb, 1 FROM report_flavor_alias a JOIN report_flavor rf ON rf.name = a.flavor_name
      ) m ORDER BY m.k, m.pref)`;

/**
 * The flavor of a stored instance key (a catalogue name or alias) as a
 * LATERAL relation fl(name, vcpus, ram_mb, disk_gb), for rows of the
 * instance meters: the same mapping as FLAVOR_KEYS (the name first, should
 * a string be both: the API refuses that state, but a hand edit could make
 * it, and the report and the rated cells must then still agree), per row;
 * used by the rating engine (per distinct key).
 */
export function flavorOf(meterCol: string, keyCol: string): string {
  return `LATERAL (
      SELECT rf.name, rf.vcpus, rf.ram_mb, rf.disk_gb FROM report_flavor rf
      WHERE ${meterCol} LIKE 'instance.%'
        AND (rf.name = ${keyCol} OR rf.name = (SELECT a.flavor_name FROM report_flavor_alias a WHERE a.alias = ${keyCol}))
      ORDER BY rf.name = ${keyCol} DESC
      LIMIT 1
    ) fl`;
}
