import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `report_local_day(t, tz)`: the local day an instant is in, by the rule of
 * reports.md §1.5 (day `D` is `[report_day_start(D), report_day_start(D+1))`),
 * instead of the instant's local date.
 *
 * The two differ where a fall-back crosses midnight: St. John's fell back at
 * 00:01 to 23:01 until 2011, so on 2009-11-01 its day began at 02:30Z and
 * from 02:31Z to 03:30Z the clock read 23:01-00:00 of October 31 again. Those
 * instants are in November 1's day, but their local date is the 31st. The
 * drain already read them into the right cell (it tries each instant's local
 * date ± 1), but the triggers marked the day of the local date: a span ending
 * there, or an AMIE record attributed there, left November 1's cell as it was
 * (reports-usage, "where a fall-back crosses midnight"). Every caller means
 * the §1.5 day (the triggers' marks, a window's first and last day, the
 * booked day, today, the late-data horizon), so the function changes rather
 * than its callers.
 *
 * An instant can only be in the next day when its local time is 22:00 or
 * later (`report_day_start` allows transitions of up to two hours), so the
 * comparison with the next day's start is made only there: still one inlined
 * expression, about 0.5 µs more a call.
 *
 * The repair: cells written before may miss what the old marks left out. For
 * every day up to the booked day that holds such instants (found by sampling
 * its first two hours every five minutes; none in most zones, so nothing is
 * read), every key with history on that day is marked dirty, and the drain
 * recomputes those cells (a lateral read per such day: with none, the history
 * is not read). `down` restores the old body; a mark cannot be
 * taken back, and a recomputed cell is right under either.
 */
const FOLD_BODY = `
  SELECT CASE
    WHEN (t AT TIME ZONE tz)::time < time '22:00' OR NOT isfinite(t)
         OR t < report_day_start((t AT TIME ZONE tz)::date + 1, tz)
      THEN (t AT TIME ZONE tz)::date
    ELSE (t AT TIME ZONE tz)::date + 1
  END`;

const DATE_BODY = `SELECT (t AT TIME ZONE tz)::date`;

const define = (body: string) => `
  CREATE OR REPLACE FUNCTION report_local_day(t timestamptz, tz text) RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE AS $$ ${body} $$`;

export class ReportLocalDayFold1763802010000 implements MigrationInterface {
  name = 'ReportLocalDayFold1763802010000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(define(FOLD_BODY));
    await queryRunner.query(`
      WITH c AS (SELECT time_zone AS tz, cloud_site, booked_day FROM report_clock),
      days AS (
        SELECT g.d::date AS day, report_day_start(g.d::date, c.tz) AS s, report_day_start(g.d::date + 1, c.tz) AS e, c.tz
        FROM c CROSS JOIN generate_series(date '1970-01-01', c.booked_day, interval '1 day') AS g(d)
      ),
      folds AS (
        SELECT d.day, d.s, d.e FROM days d
        WHERE EXISTS (SELECT 1 FROM generate_series(0, 23) AS k(k) WHERE ((d.s + make_interval(mins => 5 * k.k)) AT TIME ZONE d.tz)::date < d.day)
      )
      INSERT INTO report_dirty_key (project_id, site, day)
      SELECT DISTINCT x.project_id, x.site, f.day
      FROM folds f
      CROSS JOIN LATERAL (
        SELECT v.project_id, c.cloud_site AS site FROM almanach_entity_version v CROSS JOIN c
        WHERE v.start < f.e AND coalesce(v."end", 'infinity') > f.s
        UNION ALL
        SELECT r.local_project_id, r.site FROM amie_usage_record r
        WHERE coalesce(r.usage_end, r.usage_start) >= f.s AND coalesce(r.usage_end, r.usage_start) < f.e
      ) AS x
      ON CONFLICT (project_id, site, day) DO NOTHING`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(define(DATE_BODY));
  }
}
