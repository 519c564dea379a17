import { MigrationInterface, QueryRunner } from 'typeorm';
import { DAY_START_BODY } from './1763800600000-Reports';

/** The body of `report_day_start` from this migration on (until 1763802010000). */
export const DAY_START_INLINE_BODY = `$$
        SELECT CASE
          WHEN ((d::timestamp AT TIME ZONE tz) - interval '2 hours') AT TIME ZONE tz = d::timestamp THEN (d::timestamp AT TIME ZONE tz) - interval '2 hours'
          WHEN ((d::timestamp AT TIME ZONE tz) - interval '1 hour') AT TIME ZONE tz = d::timestamp THEN (d::timestamp AT TIME ZONE tz) - interval '1 hour'
          WHEN ((d::timestamp AT TIME ZONE tz) - interval '30 minutes') AT TIME ZONE tz = d::timestamp THEN (d::timestamp AT TIME ZONE tz) - interval '30 minutes'
          ELSE d::timestamp AT TIME ZONE tz
        END
      $$`;

/**
 * `report_day_start(d, tz)`, the earliest instant whose local date in `tz` is
 * `d` (reports.md §1.5), as one `CASE` expression instead of `min()` over a
 * set of candidates. The answer is the same (the candidates are tried from
 * the earliest: two hours, one hour, half an hour before the instant
 * PostgreSQL gives for local midnight; a candidate counts when it is itself
 * local midnight), but a SQL function whose body is a single expression with
 * no FROM is inlined by the planner, where the old body ran as a sub-query
 * on every call: the report statement calls it several times per day of a
 * window (a one-project month spent 4 of its 6 ms in it, a year by day most
 * of its time). Checked equal to the old function for every zone PostgreSQL
 * knows and every day of 1995–2035 (the DST test of reports-usage holds the
 * hard cases: a skipped midnight, Santiago; a doubled one, Havana).
 */
export class ReportDayStartInline1763801960000 implements MigrationInterface {
  name = 'ReportDayStartInline1763801960000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION report_day_start(d date, tz text) RETURNS timestamptz
      LANGUAGE sql STABLE PARALLEL SAFE AS ${DAY_START_INLINE_BODY}`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION report_day_start(d date, tz text) RETURNS timestamptz
      LANGUAGE sql STABLE PARALLEL SAFE AS ${DAY_START_BODY}`);
  }
}
