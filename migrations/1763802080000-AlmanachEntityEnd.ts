import { MigrationInterface, QueryRunner } from 'typeorm';
import { FLOOR_NOTE, noteFloors, ZONE } from './1763801980000-AlmanachVersionFloor';
import { lockOpen } from './1763802050000-AlmanachLockOpen';

/**
 * A create's later-end check in one row (issue 14; docs/almanach.md, the
 * section of this name).
 *
 * A create with no open version asks for the entity's version of latest end
 * if that end is after the create's start (almanach-v1.md 5.14). The history
 * is partitioned by the month a version ends, not by entity, so that read
 * (`almanach_lock_open`, 1763802050000) was planned and run over every month
 * after the start: an index descent per partition, about 27 for a start in
 * early 2025, for an entity that almost always has no history at all. In
 * `perf` of the write phase it was 14 % of PostgreSQL's time.
 *
 * `almanach_entity_end` holds, per entity that has a closed version, a time
 * at or after the end of every one of them (`last_end`). It is only ever
 * raised, never lowered: a DELETE or an earlier end leaves it too high,
 * which costs the partition read as before, never a missed version. The
 * create reads that one row first and reads the partitions only when
 * `last_end` is after its start.
 *
 * Kept by the statement triggers that keep the listing's month floors (one
 * function for both, `almanach_history_note`, so a write runs no more
 * triggers than before), in the writer's transaction: every closed, finite
 * end of the statement's new rows raises its entity's row (an upsert, in
 * entity order). Every statement on the history writes one entity under its
 * lock (AlmanachRepository), so the row lock never waits on another writer.
 * As with the floors, a statement aimed at a partition itself, or a bulk load
 * with triggers off, must run BACKFILL afterwards; a TRUNCATE of the history
 * empties the table with it.
 *
 * The migration locks the history against writes (SHARE ROW EXCLUSIVE)
 * before it reads the existing rows, so no write falls between the backfill
 * and the triggers.
 */
export class AlmanachEntityEnd1763802080000 implements MigrationInterface {
  name = 'AlmanachEntityEnd1763802080000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`LOCK TABLE "almanach_entity_version" IN SHARE ROW EXCLUSIVE MODE`);
    await queryRunner.query(`
      CREATE TABLE "almanach_entity_end" (
        "entity_id" text NOT NULL,
        "last_end" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "almanach_entity_end_pk" PRIMARY KEY ("entity_id")
      )`);
    await queryRunner.query(`CREATE ${historyNote(FLOORS)}`);
    await queryRunner.query(`
      CREATE FUNCTION almanach_entity_end_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM almanach_entity_end;
        RETURN NULL;
      END $$`);
    for (const event of ['insert', 'update']) {
      await queryRunner.query(`DROP TRIGGER "almanach_floor_${event}" ON "almanach_entity_version"`);
      await queryRunner.query(
        `CREATE TRIGGER "almanach_history_note_${event}" AFTER ${event.toUpperCase()} ON "almanach_entity_version" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION almanach_history_note()`,
      );
    }
    await queryRunner.query(`DROP FUNCTION almanach_floor_note()`);
    await queryRunner.query(
      `CREATE TRIGGER "almanach_entity_end_truncate" AFTER TRUNCATE ON "almanach_entity_version" FOR EACH STATEMENT EXECUTE FUNCTION almanach_entity_end_truncate()`,
    );
    await queryRunner.query(BACKFILL);
    await queryRunner.query(`CREATE OR REPLACE FUNCTION ${lockOpen(`
        -- No closed version ends after the entity's end bound (migration 1763802080000): most creates stop here.
        IF NOT EXISTS (SELECT 1 FROM almanach_entity_end e WHERE e.entity_id = p_entity AND e.last_end > p_after) THEN
          RETURN;
        END IF;`)}`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE OR REPLACE FUNCTION ${lockOpen()}`);
    await queryRunner.query(`DROP TRIGGER "almanach_entity_end_truncate" ON "almanach_entity_version"`);
    await queryRunner.query(`DROP FUNCTION almanach_entity_end_truncate()`);
    await queryRunner.query(FLOOR_NOTE);
    for (const event of ['insert', 'update']) {
      await queryRunner.query(`DROP TRIGGER "almanach_history_note_${event}" ON "almanach_entity_version"`);
      await queryRunner.query(
        `CREATE TRIGGER "almanach_floor_${event}" AFTER ${event.toUpperCase()} ON "almanach_entity_version" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION almanach_floor_note()`,
      );
    }
    await queryRunner.query(`DROP FUNCTION almanach_history_note()`);
    await queryRunner.query(`DROP TABLE "almanach_entity_end"`);
  }
}

/** The floors of the trigger's new rows, in its zone `z` (1763801980000's trigger). */
export const FLOORS = noteFloors('new_rows', 'z');

/**
 * The history's statement trigger function (after CREATE or CREATE OR REPLACE): the `floors` of its new rows
 * (noteFloors in the zone `z`), then their entities' end bounds.
 */
export function historyNote(floors: string): string {
  return `FUNCTION almanach_history_note() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
      DECLARE
        z text := ${ZONE};
      BEGIN
        ${floors};
        ${noteEnds('new_rows')};
        RETURN NULL;
      END $$`;
}

/**
 * Raises the end bound of each entity of `source` that has a closed, finite
 * end to the latest such end (never lowers one), in entity order.
 */
function noteEnds(source: string): string {
  return `INSERT INTO almanach_entity_end AS e (entity_id, last_end)
        SELECT v.entity_id, max(v."end") FROM ${source} v
        WHERE v."end" IS NOT NULL AND isfinite(v."end")
        GROUP BY v.entity_id
        ORDER BY v.entity_id
        ON CONFLICT (entity_id) DO UPDATE SET last_end = excluded.last_end WHERE e.last_end < excluded.last_end`;
}

/**
 * The end bounds of the history as it is (noteEnds over the whole table).
 * Also what a bulk load that bypassed the triggers runs afterwards, with the
 * floors' BACKFILL; running it again changes nothing.
 */
export const BACKFILL = noteEnds('almanach_entity_version');
