import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../../database/query-result';

/** An AMIE record version about to load: its index in the message, identity, receipt sequence and attribution instant (reports.md 2.2). */
export interface AmieCandidate {
  n: number;
  resource: string;
  localRecordId: string;
  seq: string;
  /** compute EndTime, storage CollectionTime, adjustment StartTime (ISO 8601); null attributes to no day. */
  at: string | null;
}

/**
 * The late-data horizon as the AMIE loader applies it (reports.md §5.4):
 * `report_horizon_refuses` of migration 1763801300000 is the one rule, the
 * Almanach triggers read it too.
 */
@Injectable()
export class HorizonRepository {
  constructor(private readonly db: DataSource) {}

  /** LATE_HORIZON_DAYS as the clock recorded it at the last start; 0 when no clock yet. */
  async lateHorizonDays(sql: Sql = this.db): Promise<number> {
    const row = await runOne<{ days: number }>(sql, `SELECT late_horizon_days AS days FROM report_clock WHERE id = 1`);
    return row?.days ?? 0;
  }

  /**
   * The candidates whose load would change a refused day: the day of the new
   * version, or of the stored version it would replace (a lower receipt
   * sequence), each as the dirty-key trigger marks it (its local day, capped
   * at the booked day). A candidate that would replace nothing (a later
   * version is stored) changes nothing and is never refused. The stored
   * versions are locked in the upsert's key order, so the version checked is
   * the one replaced.
   */
  async refusedAmie(site: string, usageType: string, candidates: AmieCandidate[], sql: Sql): Promise<number[]> {
    if (!candidates.length) return [];
    const rows = await runRows<{ n: number }>(
      sql,
      `WITH x AS (
         SELECT * FROM unnest($3::int[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[]) AS x(n, resource, local_record_id, seq, at)
       ), cur AS (
         SELECT r.resource, r.local_record_id, r.seq, coalesce(r.usage_end, r.usage_start) AS at
         FROM amie_usage_record r JOIN x ON r.site = $1 AND r.usage_type = $2 AND r.resource = x.resource AND r.local_record_id = x.local_record_id
         ORDER BY r.resource, r.local_record_id
         FOR UPDATE OF r
       ), c AS (
         SELECT time_zone, booked_day FROM report_clock WHERE id = 1
       )
       SELECT x.n
       FROM x CROSS JOIN c
       LEFT JOIN cur ON cur.resource = x.resource AND cur.local_record_id = x.local_record_id
       WHERE (cur.seq IS NULL OR cur.seq < x.seq)
         AND EXISTS (
           -- The day first, in a sub-query kept as one (OFFSET 0): report_day_start is inlined only when its argument
           -- is cheap, and report_local_day's expression is not.
           SELECT 1 FROM (
             SELECT least(report_local_day(v.at, c.time_zone), c.booked_day) AS day
             FROM (VALUES (x.at), (cur.at)) AS v(at) WHERE v.at IS NOT NULL OFFSET 0
           ) AS v
           WHERE report_horizon_refuses(report_day_start(v.day, c.time_zone))
         )
       ORDER BY x.n`,
      [
        site,
        usageType,
        candidates.map((c) => c.n),
        candidates.map((c) => c.resource),
        candidates.map((c) => c.localRecordId),
        candidates.map((c) => c.seq),
        candidates.map((c) => c.at),
      ],
    );
    return rows.map((r) => r.n);
  }
}
