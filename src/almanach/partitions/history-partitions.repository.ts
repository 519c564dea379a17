import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows } from '../../database/query-result';

/** Months ahead of the current one that have their partition (as the migration creates them). */
export const MONTHS_AHEAD = 3;
/** How long creating a partition may wait for the history's lock before it gives up until the next pass. */
const LOCK_TIMEOUT = '5s';

/**
 * The monthly partitions of the Almanach history (reports.md §7.3,
 * migrations/1763801950000-AlmanachVersionPartitions.ts): which months need
 * one, and `almanach_version_ensure_month` for each, in its own transaction.
 */
@Injectable()
export class HistoryPartitionsRepository {
  constructor(private readonly db: DataSource) {}

  /** The accounting zone: report_clock's once the reports have started, `fallback` before. */
  async zone(fallback: string): Promise<string> {
    const row = await runOne<{ time_zone: string }>(this.db, `SELECT time_zone FROM report_clock WHERE id = 1`);
    return row?.time_zone ?? fallback;
  }

  /**
   * First days of the months that should have a partition now: last month to
   * MONTHS_AHEAD ahead of this one, and every month with a row waiting in the
   * default partition (a version closed back in a month created by nobody yet).
   * A partition starts at its month's first local midnight as PostgreSQL reads
   * it (`m::timestamp AT TIME ZONE zone`, almanach_version_ensure_month): the
   * later one where a fall-back makes it happen twice. An end between the two
   * (America/Havana, 2020-11-01 04:00Z to 05:00Z) reads as the new month but
   * belongs to the partition of the month before, which is the one due.
   */
  async monthsDue(zone: string): Promise<string[]> {
    const rows = await runRows<{ month: string }>(
      this.db,
      `SELECT DISTINCT to_char(m, 'YYYY-MM-DD') AS month FROM (
         SELECT date_trunc('month', now() AT TIME ZONE $1) + make_interval(months => g) AS m FROM generate_series(-1, ${MONTHS_AHEAD}) AS g
         UNION ALL
         SELECT CASE WHEN d."end" < (w.m AT TIME ZONE $1) THEN w.m - interval '1 month' ELSE w.m END
         FROM almanach_entity_version_default d, LATERAL (SELECT date_trunc('month', d."end" AT TIME ZONE $1) AS m) AS w
         WHERE d."end" IS NOT NULL
       ) months ORDER BY 1`,
      [zone],
    );
    return rows.map((r) => r.month);
  }

  /** Creates the month's partition unless it exists (moving its rows out of the default partition); its name when created. */
  async ensureMonth(month: string, zone: string): Promise<string | null> {
    return this.db.transaction(async (m) => {
      await m.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      const row = await runOne<{ created: string | null }>(m, `SELECT almanach_version_ensure_month($1::date, $2) AS created`, [month, zone]);
      return row?.created ?? null;
    });
  }

  /** Rows of the default partition (`ledger_default_partition_rows`, which must stay 0). */
  async defaultRows(): Promise<number> {
    const row = await runOne<{ n: number }>(this.db, `SELECT count(*)::int AS n FROM almanach_entity_version_default`);
    return row?.n ?? 0;
  }
}
