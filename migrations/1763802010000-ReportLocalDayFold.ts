import { MigrationInterface, QueryRunner } from 'typeorm';
import { DAY_START_INLINE_BODY } from './1763801960000-ReportDayStartInline';

/**
 * Local days where a fall-back crosses midnight (reports.md §1.5: day `D` is
 * `[report_day_start(D), report_day_start(D+1))`).
 *
 * St. John's fell back at 00:01 to 23:01 until 2011: on 2009-11-01 its day
 * began at 02:30Z and from 02:31Z to 03:30Z the clock read 23:01-00:00 of
 * October 31 again. Antarctica/Casey fell back three hours, from 02:00 to
 * 23:00 of the day before (2010-03-05, 2019, 2020, 2023).
 *
 * - `report_local_day(t, tz)` answered the instant's local date. Those
 *   instants are in the next day: the drain read them into the right cell (it
 *   tries each instant's local date ± 1), but the triggers marked the local
 *   date, so a span ending there, or an AMIE record attributed there, left the
 *   next day's cell as it was (reports-usage, "where a fall-back crosses
 *   midnight"). It now answers the day by the rule. Every caller means that
 *   day (the triggers' marks, a window's first and last day, the booked day,
 *   today, the late-data horizon), so the function changes, not its callers.
 *   The comparison with the next day's start is made only when the local
 *   clock moved less than 24 hours over the last 24 hours (a fall-back then):
 *   one inlined expression, two zone conversions in the common case.
 * - `report_day_start(d, tz)` tried candidates up to two hours before the
 *   instant PostgreSQL gives for local midnight, so it missed Casey's first
 *   midnight three hours earlier. It now takes one candidate: midnight at the
 *   offset in force a day before that instant, when it is earlier and is
 *   itself local midnight; any size of fall-back. Checked against the old
 *   body for every zone PostgreSQL knows and every day of 1970-2037: equal
 *   but on those four Casey days, where the new one is the earliest instant
 *   of the date (a minute-by-minute search) and the old one was not.
 *
 * The repair: cells written before may miss what the old marks left out, and
 * Casey's days were cut at the wrong instant. For every day up to the booked
 * day that holds such instants (found by sampling its first seven hours every
 * five minutes; none in most zones), every key with history on that day or
 * the day before is marked dirty on both days, and the drain recomputes those
 * cells (a lateral read per such day: with none, the history is not read).
 * `down` restores the old bodies; a mark cannot be taken back, and a
 * recomputed cell is right under either.
 */
const X = `(d::timestamp AT TIME ZONE tz)`;
/** Local midnight of `d` at the offset in force a day before `X`. */
const Y = `((d::timestamp - (((${X} - interval '1 day') AT TIME ZONE tz) - ((${X} - interval '1 day') AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC')`;

const DAY_START_BODY = `$$
  SELECT CASE WHEN ${Y} < ${X} AND (${Y} AT TIME ZONE tz) = d::timestamp THEN ${Y} ELSE ${X} END $$`;

const LOCAL_DAY_BODY = `$$
  SELECT CASE
    WHEN NOT isfinite(t) THEN (t AT TIME ZONE tz)::date
    WHEN (t AT TIME ZONE tz) - ((t - interval '1 day') AT TIME ZONE tz) >= interval '1 day' THEN (t AT TIME ZONE tz)::date
    WHEN t < report_day_start((t AT TIME ZONE tz)::date + 1, tz) THEN (t AT TIME ZONE tz)::date
    ELSE (t AT TIME ZONE tz)::date + 1
  END $$`;

const LOCAL_DATE_BODY = `$$ SELECT (t AT TIME ZONE tz)::date $$`;

const defineDayStart = (body: string) => `
  CREATE OR REPLACE FUNCTION report_day_start(d date, tz text) RETURNS timestamptz
  LANGUAGE sql STABLE PARALLEL SAFE AS ${body}`;

const defineLocalDay = (body: string) => `
  CREATE OR REPLACE FUNCTION report_local_day(t timestamptz, tz text) RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE AS ${body}`;

export class ReportLocalDayFold1763802010000 implements MigrationInterface {
  name = 'ReportLocalDayFold1763802010000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(defineDayStart(DAY_START_BODY));
    await queryRunner.query(defineLocalDay(LOCAL_DAY_BODY));
    await queryRunner.query(`
      WITH c AS (SELECT time_zone AS tz, cloud_site, booked_day FROM report_clock),
      days AS (
        SELECT g.d::date AS day, report_day_start(g.d::date, c.tz) AS s, report_day_start(g.d::date + 1, c.tz) AS e, c.tz
        FROM c CROSS JOIN generate_series(date '1970-01-01', c.booked_day, interval '1 day') AS g(d)
      ),
      folds AS (
        SELECT d.day, d.e FROM days d
        WHERE EXISTS (SELECT 1 FROM generate_series(0, 83) AS k(k) WHERE ((d.s + make_interval(mins => 5 * k.k)) AT TIME ZONE d.tz)::date < d.day)
      )
      INSERT INTO report_dirty_key (project_id, site, day)
      SELECT DISTINCT x.project_id, x.site, k.day
      FROM folds f
      CROSS JOIN LATERAL (SELECT report_day_start(f.day - 1, (SELECT tz FROM c)) AS s) AS b
      CROSS JOIN LATERAL (
        SELECT v.project_id, c.cloud_site AS site FROM almanach_entity_version v CROSS JOIN c
        WHERE v.start < f.e AND coalesce(v."end", 'infinity') > b.s
        UNION ALL
        SELECT r.local_project_id, r.site FROM amie_usage_record r
        WHERE coalesce(r.usage_end, r.usage_start) >= b.s AND coalesce(r.usage_end, r.usage_start) < f.e
      ) AS x
      CROSS JOIN LATERAL (VALUES (f.day - 1), (f.day)) AS k(day)
      WHERE k.day <= (SELECT booked_day FROM c)
      ON CONFLICT (project_id, site, day) DO NOTHING`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(defineLocalDay(LOCAL_DATE_BODY));
    await queryRunner.query(defineDayStart(DAY_START_INLINE_BODY));
  }
}
