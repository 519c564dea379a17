import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../../database/query-result';
import { UTC_MICROS } from '../../window/window.repository';

/** A window bound or expiry as PostgreSQL read it in the accounting zone. */
export interface ResolvedInstant {
  /** UTC, six fractional digits, `Z`. */
  at: string;
  /** Its local day. */
  day: string;
  /** Whether it is the start of that day (report_day_start). */
  day_aligned: boolean;
  /** Seconds from now (negative: past). */
  from_now: number;
}

/** A stored backfill window, instants as UTC text with six fractional digits. */
export interface BackfillRow {
  id: string;
  start: string;
  end: string;
  reason: string;
  expires_at: string;
  created_at: string;
  created_by: string;
  active: boolean;
}

const COLUMNS = `id, to_char(start AT TIME ZONE 'UTC', ${UTC_MICROS}) AS start, to_char("end" AT TIME ZONE 'UTC', ${UTC_MICROS}) AS "end",
  reason, to_char(expires_at AT TIME ZONE 'UTC', ${UTC_MICROS}) AS expires_at,
  to_char(created_at AT TIME ZONE 'UTC', ${UTC_MICROS}) AS created_at, created_by, expires_at > now() AS active`;

/** report_backfill (reports.md §5.4): the windows `report_horizon_refuses` reads. */
@Injectable()
export class BackfillRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * A bare date (`YYYY-MM-DD`: the start of that local day, report_day_start)
   * or an instant, read in `zone`. Throws PostgreSQL's 22xxx error for a
   * value the patterns let through but the server refuses (hour 25).
   */
  async resolve(value: string, zone: string, sql: Sql = this.db): Promise<ResolvedInstant> {
    const bare = /^\d{4}-\d{2}-\d{2}$/.test(value);
    const row = await runOne<ResolvedInstant>(
      sql,
      `SELECT to_char(t.at AT TIME ZONE 'UTC', ${UTC_MICROS}) AS at, report_local_day(t.at, $2)::text AS day,
              report_day_start(report_local_day(t.at, $2), $2) = t.at AS day_aligned,
              extract(epoch FROM t.at - now())::float8 AS from_now
       FROM (SELECT ${bare ? 'report_day_start($1::date, $2)' : '$1::timestamptz'} AS at) t`,
      [value, zone],
    );
    return row!;
  }

  async insert(
    window: { id: string; start: string; end: string; startDay: string; endDay: string; reason: string; expiresAt: string; createdBy: string },
    sql: Sql = this.db,
  ): Promise<BackfillRow> {
    const row = await runOne<BackfillRow>(
      sql,
      `INSERT INTO report_backfill (id, start, "end", start_day, end_day, reason, expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       RETURNING ${COLUMNS}`,
      [window.id, window.start, window.end, window.startDay, window.endDay, window.reason, window.expiresAt, window.createdBy],
    );
    return row!;
  }

  /** Every window: active ones first, then newest first. */
  async list(sql: Sql = this.db): Promise<BackfillRow[]> {
    return runRows<BackfillRow>(sql, `SELECT ${COLUMNS} FROM report_backfill ORDER BY expires_at > now() DESC, created_at DESC, id DESC`);
  }
}
