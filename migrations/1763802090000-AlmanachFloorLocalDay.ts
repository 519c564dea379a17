import { MigrationInterface, QueryRunner } from 'typeorm';
import { noteFloors, ZONE } from './1763801980000-AlmanachVersionFloor';
import { FLOORS, historyNote } from './1763802080000-AlmanachEntityEnd';

/**
 * A version's floor is filed under the month whose bounds hold its end
 * (issue 14; docs/almanach.md, "History partitions").
 *
 * A floor row states a month of version ends `[lo, hi)`, each bound the
 * earliest instant of the month's first local date (report_day_start), and
 * a listing reads the versions ending in that range. 1763801980000 chose the
 * month by the end's local wall-clock date. Where a fall-back crosses a
 * month's first midnight, an instant after that midnight can read as the
 * day before: in America/St_Johns, 2009-11-01 02:31Z to 03:30Z is October
 * 31st 23:01 to 23:59 (standard time) again, after November began at 02:30Z.
 * A version ending there was filed under October's floor, whose `hi` is
 * 02:30Z, so a listing of an October window read October's ends only and,
 * that floor being covered, did not answer stale: the version was missing.
 *
 * The floors now file an end under the month of its accounting day,
 * report_local_day (1763802010000): the day whose bounds hold it, so its
 * month's `[lo, hi)` holds it too. Only such folds change anything; in a
 * zone without them (UTC, and most) both rules give the same month.
 *
 * The repair: the floors of every version ending on the first day of a
 * month whose first seven hours hold such an instant (sampled every minute
 * from the month's first midnight, 1970 to ten years ahead; none in most
 * zones, so the history is not read). A floor filed under the wrong month
 * is left: it costs a read of that month, never a missed version. The
 * history is locked against writes first (SHARE ROW EXCLUSIVE) so that no
 * write falls between the repair and the new trigger function.
 */
export class AlmanachFloorLocalDay1763802090000 implements MigrationInterface {
  name = 'AlmanachFloorLocalDay1763802090000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`LOCK TABLE "almanach_entity_version" IN SHARE ROW EXCLUSIVE MODE`);
    await queryRunner.query(`CREATE OR REPLACE ${historyNote(noteFloors('new_rows', 'z', localDayMonth))}`);
    await queryRunner.query(REPAIR);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE ${historyNote(FLOORS)}`);
  }
}

/** The first day of the month of an end's accounting day (report_local_day: the day whose bounds hold it). */
export const localDayMonth = (end: string, zone: string) => `date_trunc('month', report_local_day(${end}, ${zone}))::date`;

/**
 * The floors of the history as it is, each end filed by localDayMonth. What a bulk load that bypassed the
 * triggers runs afterwards (with 1763802080000's BACKFILL); running it again adds nothing.
 */
export const BACKFILL = noteFloors('almanach_entity_version', `(${ZONE})`, localDayMonth);

/** The floors of the versions ending on the first day of a month where a fall-back makes it start twice. */
const REPAIR = `
  WITH z AS (SELECT ${ZONE} AS tz),
  firsts AS (
    SELECT g.d::date AS first, report_day_start(g.d::date, z.tz) AS s, z.tz
    FROM z CROSS JOIN generate_series(date '1970-01-01', (date_trunc('month', now()) + interval '10 years')::date, interval '1 month') AS g(d)
  ),
  folds AS (
    SELECT f.s FROM firsts f
    WHERE EXISTS (SELECT 1 FROM generate_series(1, 420) AS k(k) WHERE ((f.s + make_interval(mins => k.k)) AT TIME ZONE f.tz)::date < f.first)
  )
  ${noteFloors(
    `(SELECT v.* FROM folds f JOIN almanach_entity_version v ON v."end" >= f.s AND v."end" < f.s + interval '1 day')`,
    '(SELECT tz FROM z)',
    localDayMonth,
  )}`;
