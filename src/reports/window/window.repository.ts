import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, Sql } from '../../database/query-result';

/** An instant as PostgreSQL writes it for the reports: UTC, six fractional digits, `Z`. */
export const UTC_MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** Zone names pg_timezone_names listed (WindowRepository.knownZone); bounded: there are about 1,200. */
const KNOWN_ZONES = new Set<string>();

/** One bound of a window as the database should read it. */
export type Bound = { date: string } | { instant: string };

/**
 * Window arithmetic on UTC instants with PostgreSQL's zone database as the
 * single authority (reports.md §1.5): the Node side only formats.
 */
@Injectable()
export class WindowRepository {
  constructor(private readonly db: DataSource) {}

  /** Today's local date (YYYY-MM-DD) in `zone`. */
  async today(zone: string, sql: Sql = this.db): Promise<string> {
    return (await runOne<{ day: string }>(sql, `SELECT report_local_day(now(), $1::text)::text AS "day"`, [zone]))!.day;
  }

  /**
   * Whether PostgreSQL knows `zone` by name (pg_timezone_names). That view
   * reads the whole zone database on every query (58 ms a call measured, more
   * than the rest of a one-project report), so the names found are kept for
   * the process's life: a zone name PostgreSQL knew stays known (tzdata
   * renames keep the old name as a link). A name not found is asked again.
   */
  async knownZone(zone: string, sql: Sql = this.db): Promise<boolean> {
    if (KNOWN_ZONES.has(zone)) return true;
    const known = (await runOne(sql, `SELECT 1 FROM pg_timezone_names WHERE name = $1`, [zone])) !== undefined;
    if (known && KNOWN_ZONES.size < 4096) KNOWN_ZONES.add(zone);
    return known;
  }

  /** Both bounds as UTC instants (bare dates: the start of that local day in `zone`) and the evaluation instant. */
  async resolve(start: Bound, end: Bound, zone: string, sql: Sql = this.db): Promise<{ start: string; end: string; as_of: string }> {
    const expr = (bound: Bound, p: number) => ('date' in bound ? `report_day_start($${p}::date, $3)` : `$${p}::timestamptz`);
    const row = await runOne<{ start: string; end: string; as_of: string }>(
      sql,
      `SELECT to_char(${expr(start, 1)} AT TIME ZONE 'UTC', ${UTC_MICROS}) AS start,
              to_char(${expr(end, 2)} AT TIME ZONE 'UTC', ${UTC_MICROS}) AS "end",
              to_char(now() AT TIME ZONE 'UTC', ${UTC_MICROS}) AS as_of, $3::text AS zone`,
      ['date' in start ? start.date : start.instant, 'date' in end ? end.date : end.instant, zone],
    );
    return row!;
  }
}
