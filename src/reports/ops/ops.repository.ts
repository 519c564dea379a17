import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../database/query-result';
import { applicableListId } from '../rating/price-lists/applicable-list-sql';
import { FLAVOR_KEYS } from '../rollups/usage-sql';
import { dirtyCountSql, DirtyScope, dirtySinceSql } from '../rollups/dirty-sql';

/** All of D. */
const WHOLE: DirtyScope = { lo: null, hi: null, where: () => '' };

export type FreshnessSource = 'almanach' | 'amie' | 'notifications';

export interface SourceSeen {
  source: FreshnessSource;
  site: string;
  collector: string;
  at: Date;
}

export interface SourceSeenRow {
  source: FreshnessSource;
  site: string;
  collector: string;
  last_event_at: Date;
  /** now() − last_event_at, in seconds, as the database sees now. */
  age_seconds: number;
}

export interface RollupStateRow {
  dirty_keys: number;
  lag_seconds: number;
  booked_day: string | null;
  day_roll_at: Date | null;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface QueueSampleRow extends QueueCounts {
  at: Date;
  queue: string;
}

export interface FailureGroupRow {
  site: string;
  resource: string;
  error: string;
  usage_type: string;
  count: number;
  oldest_failed_at: Date;
  newest_failed_at: Date;
}

export interface MetricCountRow {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Every SQL statement of the metrics and operations views (reports.md §9). */
@Injectable()
export class OpsRepository {
  constructor(private readonly db: DataSource) {}

  /** Records accepted writes; a row only moves forward in time. */
  async touchSources(seen: SourceSeen[], sql: Sql = this.db): Promise<void> {
    if (!seen.length) return;
    await sql.query(
      `INSERT INTO report_source_seen (source, site, collector, last_event_at)
       SELECT s, t, c, max(a) FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS x(s, t, c, a)
       GROUP BY s, t, c ORDER BY s, t, c
       ON CONFLICT (source, site, collector) DO UPDATE SET last_event_at = greatest(report_source_seen.last_event_at, EXCLUDED.last_event_at)`,
      [seen.map((s) => s.source), seen.map((s) => s.site), seen.map((s) => s.collector), seen.map((s) => s.at.toISOString())],
    );
  }

  /**
   * Copies the collector's newest receipt (collector.md 5.3) into
   * report_source_seen as `notifications` (§9.1). Receipts are pruned after 7
   * days; the row stays.
   */
  async copyNewestReceipt(site: string, collector: string, sql: Sql = this.db): Promise<void> {
    await sql.query(
      `INSERT INTO report_source_seen (source, site, collector, last_event_at)
       SELECT 'notifications', $1, $2, r.at FROM (SELECT max(received_at) AS at FROM notification_receipts) r WHERE r.at IS NOT NULL
       ON CONFLICT (source, site, collector) DO UPDATE SET last_event_at = greatest(report_source_seen.last_event_at, EXCLUDED.last_event_at)`,
      [site, collector],
    );
  }

  /** Every source row, sorted by source, site, collector (§9.2). */
  async sources(sql: Sql = this.db): Promise<SourceSeenRow[]> {
    const rows = await runRows<SourceSeenRow & { age_seconds: string }>(
      sql,
      `SELECT source, site, collector, last_event_at, greatest(0, extract(epoch FROM now() - last_event_at))::float8 AS age_seconds
       FROM report_source_seen ORDER BY source COLLATE "C", site COLLATE "C", collector COLLATE "C"`,
    );
    return rows.map((r) => ({ ...r, age_seconds: Number(r.age_seconds) }));
  }

  /**
   * The size of D (keys and the days of undrained ranges), the age of its
   * oldest key or range, the booked day and the last day roll (§7.2).
   */
  async rollupState(sql: Sql = this.db): Promise<RollupStateRow> {
    const row = await runOne<{ dirty_keys: string; lag_seconds: string; booked_day: string | null; day_roll_at: Date | null }>(
      sql,
      `SELECT ${dirtyCountSql(WHOLE)} AS dirty_keys,
              coalesce(greatest(0, extract(epoch FROM now() - ${dirtySinceSql(WHOLE)})), 0)::float8 AS lag_seconds,
              (SELECT booked_day::text FROM report_clock WHERE id = 1) AS booked_day,
              (SELECT updated_at FROM report_clock WHERE id = 1) AS day_roll_at`,
    );
    return { dirty_keys: Number(row!.dirty_keys), lag_seconds: Number(row!.lag_seconds), booked_day: row!.booked_day, day_roll_at: row!.day_roll_at };
  }

  /** One sample per 15-second slot and queue; a second sampler of the same slot writes nothing. */
  async addQueueSample(slot: Date, queue: string, counts: QueueCounts, sql: Sql = this.db): Promise<void> {
    await sql.query(
      `INSERT INTO report_queue_sample (at, queue, waiting, active, delayed, failed) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (at, queue) DO NOTHING`,
      [slot.toISOString(), queue, counts.waiting, counts.active, counts.delayed, counts.failed],
    );
  }

  /** Samples of the last `seconds`, oldest first. */
  async queueSamples(seconds: number, sql: Sql = this.db): Promise<QueueSampleRow[]> {
    return runRows<QueueSampleRow>(
      sql,
      `SELECT at, queue, waiting, active, delayed, failed FROM report_queue_sample
       WHERE at >= now() - make_interval(secs => $1) ORDER BY at, queue COLLATE "C"`,
      [seconds],
    );
  }

  /** Removes samples older than `days` days. */
  async pruneQueueSamples(days: number, sql: Sql = this.db): Promise<void> {
    await sql.query(`DELETE FROM report_queue_sample WHERE at < now() - make_interval(days => $1)`, [days]);
  }

  /**
   * The outstanding failed AMIE records by site, resource (`""` when
   * missing), error and usage type (§9.2, "failures"), sorted by those four.
   */
  async failureGroups(filter: { site?: string; resource?: string }, sql: Sql = this.db): Promise<FailureGroupRow[]> {
    const rows = await runRows<FailureGroupRow & { count: string }>(
      sql,
      `SELECT site, coalesce(resource, '') AS resource, error, usage_type, count(*)::bigint AS count,
              min(processed_at) AS oldest_failed_at, max(processed_at) AS newest_failed_at
       FROM amie_usage_failed_record
       WHERE state = 'failed' AND ($1::text IS NULL OR site = $1) AND ($2::text IS NULL OR coalesce(resource, '') = $2)
       GROUP BY site, coalesce(resource, ''), error, usage_type
       ORDER BY site COLLATE "C", coalesce(resource, '') COLLATE "C", error COLLATE "C", usage_type COLLATE "C"`,
      [filter.site ?? null, filter.resource ?? null],
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }

  /** Outstanding failed AMIE records per site (`ledger_amie_failed_records`). */
  async failedRecordsPerSite(sql: Sql = this.db): Promise<{ site: string; count: number }[]> {
    const rows = await runRows<{ site: string; count: string }>(
      sql,
      `SELECT site, count(*)::bigint AS count FROM amie_usage_failed_record WHERE state = 'failed' GROUP BY site ORDER BY site COLLATE "C"`,
    );
    return rows.map((r) => ({ site: r.site, count: Number(r.count) }));
  }

  /** Every AMIE site of /admin/sites: a site with no failure still shows 0. */
  async amieSites(sql: Sql = this.db): Promise<string[]> {
    const rows = await runRows<{ name: string }>(sql, `SELECT name FROM amie_site ORDER BY name COLLATE "C"`);
    return rows.map((r) => r.name);
  }

  /** Adds counts to the deployment totals, one statement for the batch. */
  async addMetricCounts(counts: MetricCountRow[], sql: Sql = this.db): Promise<void> {
    if (!counts.length) return;
    await sql.query(
      `INSERT INTO report_metric_counts (metric, labels, value, updated_at)
       SELECT m, l, sum(v), now() FROM unnest($1::text[], $2::jsonb[], $3::float8[]) AS x(m, l, v)
       GROUP BY m, l ORDER BY m, l
       ON CONFLICT (metric, labels) DO UPDATE SET value = report_metric_counts.value + EXCLUDED.value, updated_at = now()`,
      [counts.map((c) => c.metric), counts.map((c) => JSON.stringify(c.labels)), counts.map((c) => c.value)],
    );
  }

  async metricCounts(sql: Sql = this.db): Promise<MetricCountRow[]> {
    const rows = await runRows<MetricCountRow>(sql, `SELECT metric, labels, value FROM report_metric_counts ORDER BY metric, labels`);
    return rows.map((r) => ({ ...r, value: Number(r.value) }));
  }

  /** The collector's totals (collector.md 6, `notification_counts`). */
  async notificationCounts(sql: Sql = this.db): Promise<{ event_type: string; outcome: string; count: number }[]> {
    const rows = await runRows<{ event_type: string; outcome: string; count: string }>(
      sql,
      `SELECT event_type, outcome, count::text AS count FROM notification_counts ORDER BY event_type, outcome`,
    );
    return rows.map((r) => ({ ...r, count: Number(r.count) }));
  }

  /**
   * Rows waiting in the default partition of each partitioned history table
   * (reports.md §7.3: a closed version whose month has no partition yet); the
   * worker's partition pass moves them, so this stays 0.
   */
  async defaultPartitionRows(sql: Sql = this.db): Promise<{ table: string; rows: number }[]> {
    return runRows<{ table: string; rows: number }>(sql, `SELECT 'almanach_entity_version' AS table, count(*)::int AS rows FROM almanach_entity_version_default`);
  }

  /**
   * Flavors of instance usage (`instance.time` cells: month cells for
   * booked days, today cells for the current one) that neither a catalogue
   * name nor an alias sizes (`ledger_unsized_flavors`). Read from the rollups,
   * not from raw history, so history not yet drained is not counted.
   */
  async unsizedFlavors(sql: Sql = this.db): Promise<number> {
    const row = await runOne<{ n: string }>(
      sql,
      `SELECT count(*)::bigint AS n FROM (
         SELECT key FROM report_usage_month_cell WHERE meter = 'instance.time' AND key <> ''
         UNION
         SELECT key FROM report_usage_today_cell WHERE meter = 'instance.time' AND key <> ''
       ) k
       WHERE NOT EXISTS (SELECT 1 FROM report_flavor f WHERE f.name = k.key)
         AND NOT EXISTS (SELECT 1 FROM report_flavor_alias a WHERE a.alias = k.key)`,
    );
    return Number(row?.n ?? 0);
  }

  /**
   * `ledger_unpriced_cells` (reports.md §9.1): per meter, the booked usage
   * day cells of periods not closed — the stored meters and, for flavors the
   * catalogue sizes, the derived instance meters (as the rating engine rates
   * them) — that some price list applying to their project (4.1: the list
   * naming it, else its currency's default) leaves without a live rated day
   * cell: the usage a report in that currency shows unpriced (3.1). A
   * project no list applies to is not counted (it has no cost in that
   * currency); with no price list at all the gauge is 0. Meters with none
   * are absent from the answer.
   */
  async unpricedCells(sql: Sql = this.db): Promise<{ meter: string; count: number }[]> {
    return runRows<{ meter: string; count: number }>(
      sql,
      `WITH cells AS (
         SELECT u.project_id, u.site, u.day, u.meter, u.key, u.subkey, fl.name AS fname
         FROM report_usage_day_cell u
         JOIN report_clock c ON c.id = 1 AND u.day < c.booked_day
         LEFT JOIN ${FLAVOR_KEYS} fl ON u.meter LIKE 'instance.%' AND fl.k = u.key
         WHERE NOT EXISTS (SELECT 1 FROM report_period p WHERE p.month = date_trunc('month', u.day)::date AND p.state = 'closed')
       ),
       metered AS (
         SELECT project_id, site, day, meter, key, subkey FROM cells
         UNION ALL
         SELECT c.project_id, c.site, c.day, d.meter, c.key, c.subkey
         FROM cells c CROSS JOIN (VALUES ('instance.vcpu'), ('instance.ram'), ('instance.disk')) AS d(meter)
         WHERE c.meter = 'instance.time' AND c.fname IS NOT NULL
       )
       SELECT m.meter, count(*)::int AS count
       FROM metered m
       WHERE EXISTS (
         SELECT 1 FROM (SELECT DISTINCT currency FROM report_price_list) cur
         CROSS JOIN LATERAL (SELECT ${applicableListId('m.project_id', 'cur.currency')} AS id) l
         WHERE l.id IS NOT NULL
           AND NOT EXISTS (
             SELECT 1 FROM report_rated_day_cell r
             WHERE r.project_id = m.project_id AND r.site = m.site AND r.day = m.day AND r.meter = m.meter
               AND r.key = m.key AND r.subkey = m.subkey AND r.price_list_id = l.id AND r.superseded_by IS NULL))
       GROUP BY m.meter
       ORDER BY m.meter`,
    );
  }

  /** Progress of the running report job of each kind (`ledger_job_progress_ratio`, §4.7). */
  async runningJobProgress(sql: Sql = this.db): Promise<{ kind: string; ratio: number }[]> {
    const rows = await runRows<{ kind: string; ratio: string }>(
      sql,
      `SELECT DISTINCT ON (kind) kind,
              CASE WHEN coalesce(progress_total, 0) = 0 THEN 0 ELSE least(1, progress_done::float8 / progress_total) END AS ratio
       FROM report_job WHERE state = 'running' ORDER BY kind, created_at`,
    );
    return rows.map((r) => ({ kind: r.kind, ratio: Number(r.ratio) }));
  }

  /**
   * Re-rate jobs (kinds `rerate` and `correction`, reports.md 4.6) by state,
   * every state of 4.7 present (0 when none): `ledger_rerate_jobs`.
   */
  async rerateJobsByState(sql: Sql = this.db): Promise<{ state: string; count: number }[]> {
    return runRows<{ state: string; count: number }>(
      sql,
      `SELECT s.state, count(j.id)::int AS count
       FROM unnest(ARRAY['queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled']) AS s(state)
       LEFT JOIN report_job j ON j.state = s.state AND j.kind IN ('rerate', 'correction')
       GROUP BY s.state ORDER BY s.state`,
    );
  }
}
