import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which months of a project's history a window listing must read (issue 14).
 *
 * The history is partitioned by the month a version ends (1763801950000), so
 * a listing of a past window had to read every month from the window's start
 * on: a version closed this month may have started before the window. Most
 * of those months hold nothing that started that early, and each one still
 * costs an index descent and its share of planning (16 → 36 partitions, and
 * planning 1.15 → 2.42 ms, when the history grew from 2M to 6M versions
 * after the window).
 *
 * `almanach_version_floor` says, per project and month of version ends
 * `[lo, hi)`, a time at or before the start of every closed version of that
 * project ending in that month (`min_start`). A listing of `[start, end]`
 * reads only the open partition and the months with `min_start <= end` and
 * `hi > start` (AlmanachRepository.listWindow: one statement, which also
 * says whether its snapshot holds a floor of the window outside the months
 * it read), so the planner prunes every other month.
 *
 * Kept by statement-level triggers with transition tables on every INSERT and
 * UPDATE of the history (a version closed, moved, re-dated or re-owned), in
 * the writer's transaction. A floor is only ever lowered, never raised, so a
 * row that a DELETE or a later start leaves too low costs a partition read,
 * never a missed version. A trigger never waits for another writer: it
 * inserts a new row only when no row of the same (project, month) is at or
 * below the new start already (no unique key, no upsert, no row lock); two
 * writers racing for the same month may both insert, and the listing takes
 * either. Months are the accounting zone's (report_clock; UTC before the
 * first start), as the partitions are, each bound the earliest instant of
 * its local date (report_day_start: a midnight that happens twice starts the
 * month at the first one, so every version's end falls inside its own
 * month); a floor row written under another zone still states its own
 * `[lo, hi)` and stays right.
 *
 * The triggers are the parent's: a statement aimed at a partition itself, or
 * a bulk load with triggers off, writes no floor (nor the /v1/info tally,
 * nor the reports' dirty keys) and must run BACKFILL afterwards.
 *
 * The migration locks the history against writes (SHARE ROW EXCLUSIVE, as
 * CREATE TRIGGER does anyway) before it reads the existing rows, so no write
 * falls between the backfill and the triggers. A TRUNCATE of the history
 * empties the floors with it.
 */
export class AlmanachVersionFloor1763801980000 implements MigrationInterface {
  name = 'AlmanachVersionFloor1763801980000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`LOCK TABLE "almanach_entity_version" IN SHARE ROW EXCLUSIVE MODE`);
    await queryRunner.query(`
      CREATE TABLE "almanach_version_floor" (
        "project_id" text NOT NULL,
        "lo" TIMESTAMP WITH TIME ZONE NOT NULL,
        "hi" TIMESTAMP WITH TIME ZONE NOT NULL,
        "min_start" TIMESTAMP WITH TIME ZONE NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX "almanach_version_floor_idx" ON "almanach_version_floor" ("project_id", "lo", "min_start") INCLUDE ("hi")`);
    await queryRunner.query(FLOOR_NOTE);
    await queryRunner.query(`
      CREATE FUNCTION almanach_floor_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM almanach_version_floor;
        RETURN NULL;
      END $$`);
    for (const event of ['INSERT', 'UPDATE']) {
      await queryRunner.query(
        `CREATE TRIGGER "almanach_floor_${event.toLowerCase()}" AFTER ${event} ON "almanach_entity_version" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION almanach_floor_note()`,
      );
    }
    await queryRunner.query(
      `CREATE TRIGGER "almanach_floor_truncate" AFTER TRUNCATE ON "almanach_entity_version" FOR EACH STATEMENT EXECUTE FUNCTION almanach_floor_truncate()`,
    );
    await queryRunner.query(BACKFILL);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const event of ['insert', 'update', 'truncate']) await queryRunner.query(`DROP TRIGGER "almanach_floor_${event}" ON "almanach_entity_version"`);
    await queryRunner.query(`DROP FUNCTION almanach_floor_note()`);
    await queryRunner.query(`DROP FUNCTION almanach_floor_truncate()`);
    await queryRunner.query(`DROP TABLE "almanach_version_floor"`);
  }
}

/** The accounting zone (report_clock's; UTC before the first start), whose months the floors are. */
export const ZONE = `coalesce((SELECT c.time_zone FROM report_clock c WHERE c.id = 1), 'UTC')`;

/**
 * The first day of the month an end is filed under, as this migration wrote
 * it: that of the end's local wall-clock date. Where a fall-back crosses a
 * month's first midnight that date can be the day before the month whose
 * bounds hold the end (1763802090000 files by report_local_day instead).
 */
export const wallClockMonth = (end: string, zone: string) => `date_trunc('month', ${end} AT TIME ZONE ${zone})::date`;

/**
 * Adds the floors of the history rows of `source`: per (project, month of
 * ends in `zone` (`monthOf`), bounded by the earliest instants of their
 * local dates) the earliest start, unless a floor at or below it is there
 * already. The trigger runs it on a statement's new rows, the backfill on
 * the whole history.
 */
export function noteFloors(source: string, zone: string, monthOf = wallClockMonth): string {
  return `INSERT INTO almanach_version_floor (project_id, lo, hi, min_start)
        SELECT k.project_id, k.lo, k.hi, k.min_start
        FROM (
          SELECT v.project_id, m.lo, m.hi, min(v.start) AS min_start
          FROM ${source} v,
               LATERAL (SELECT ${monthOf('v."end"', zone)} AS first) AS d,
               LATERAL (SELECT report_day_start(d.first, ${zone}) AS lo, report_day_start((d.first + interval '1 month')::date, ${zone}) AS hi) AS m
          WHERE v."end" IS NOT NULL AND isfinite(v."end")
          GROUP BY v.project_id, m.lo, m.hi
        ) AS k
        WHERE NOT EXISTS (
          SELECT 1 FROM almanach_version_floor f WHERE f.project_id = k.project_id AND f.lo = k.lo AND f.min_start <= k.min_start
        )
        ORDER BY k.project_id, k.lo`;
}

/**
 * The floors of the history as it is (noteFloors over the whole table). Also
 * what a bulk load that bypassed the triggers (session_replication_role =
 * replica, DISABLE TRIGGER) runs afterwards; running it again adds nothing.
 */
export const BACKFILL = noteFloors('almanach_entity_version', `(${ZONE})`);

/** The floors' statement trigger function (1763802080000's down() makes it again). */
export const FLOOR_NOTE = `
      CREATE FUNCTION almanach_floor_note() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
      DECLARE
        z text := ${ZONE};
      BEGIN
        ${noteFloors('new_rows', 'z')};
        RETURN NULL;
      END $$`;
