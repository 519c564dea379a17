import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Writers never wait for a drain (reports.md §7.2). `report_mark_dirty`, which
 * every dirty-key trigger calls, share-locked each key it marked (FOR KEY
 * SHARE) and so waited for a drain holding that key FOR UPDATE: for the
 * length of the drain's whole batch. Today's keys are in nearly every batch
 * while writes arrive, so the Almanach API waited on the drain: 13.7 writes/s
 * of the 200 asked, with requests queued behind 13-second batches (reports
 * bench at 1M versions, 500 projects; pg_stat_activity showed every writer
 * blocked by the drain's transaction).
 *
 * Now a writer share-locks the keys no drain holds (SKIP LOCKED), and writes
 * each key it could not lock (held by a drain, or deleted by one since the
 * insert) as a one-day `report_dirty_range` row instead. A range row is a new
 * row: the drain holding the key cannot see it (its snapshot is older than
 * the writer's commit) nor delete it, so after the drain commits the day is
 * still dirty through the range, and the expansion turns it into a key again.
 * The two halves of the protocol stay: a key a writer share-locked cannot be
 * taken by a drain until the writer commits; a day a writer could not lock is
 * dirty through a row the drain does not own.
 *
 * The expansion (`report_dirty_range_expand`) keeps the waiting form, renamed
 * `report_mark_dirty_wait`: it runs in the worker, and must not turn the
 * ranges it takes into new ranges again while another drain holds a key.
 */
const WAIT_BODY = `
  DECLARE
    want integer := coalesce(cardinality(p), 0);
    got integer;
  BEGIN
    IF want = 0 THEN RETURN; END IF;
    LOOP
      INSERT INTO report_dirty_key (project_id, site, day)
      SELECT * FROM unnest(p, s, d) ORDER BY 1, 2, 3
      ON CONFLICT (project_id, site, day) DO NOTHING;
      PERFORM 1 FROM report_dirty_key k
        JOIN unnest(p, s, d) AS u(project_id, site, day) ON k.project_id = u.project_id AND k.site = u.site AND k.day = u.day
        ORDER BY k.project_id, k.site, k.day
        FOR KEY SHARE OF k;
      GET DIAGNOSTICS got = ROW_COUNT;
      EXIT WHEN got >= want;
    END LOOP;
  END`;

const NO_WAIT_BODY = `
  BEGIN
    IF coalesce(cardinality(p), 0) = 0 THEN RETURN; END IF;
    INSERT INTO report_dirty_key (project_id, site, day)
    SELECT * FROM unnest(p, s, d) ORDER BY 1, 2, 3
    ON CONFLICT (project_id, site, day) DO NOTHING;
    WITH held AS (
      SELECT k.project_id, k.site, k.day FROM report_dirty_key k
      JOIN unnest(p, s, d) AS u(project_id, site, day) ON k.project_id = u.project_id AND k.site = u.site AND k.day = u.day
      ORDER BY k.project_id, k.site, k.day
      FOR KEY SHARE OF k SKIP LOCKED
    )
    INSERT INTO report_dirty_range (project_id, site, first_day, last_day)
    SELECT u.project_id, u.site, u.day, u.day FROM unnest(p, s, d) AS u(project_id, site, day)
    WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.project_id = u.project_id AND h.site = u.site AND h.day = u.day)
    ORDER BY 1, 2, 3;
  END`;

const fn = (name: string, body: string) => `
  CREATE OR REPLACE FUNCTION ${name}(p text[], s text[], d date[]) RETURNS void
  LANGUAGE plpgsql SET jit = off AS $$${body}$$`;

/** Re-creates the expansion with its one call of `from` changed to `to` (its body is otherwise 1763801900000's). */
function expansionCalling(from: string, to: string): string {
  return `
  DO $do$
  DECLARE def text;
  BEGIN
    def := pg_get_functiondef('report_dirty_range_expand(integer)'::regprocedure);
    IF position('PERFORM ${from}(v_p, v_s, v_d);' IN def) = 0 THEN
      RAISE EXCEPTION 'report_dirty_range_expand does not call ${from} as expected';
    END IF;
    EXECUTE replace(def, 'PERFORM ${from}(v_p, v_s, v_d);', 'PERFORM ${to}(v_p, v_s, v_d);');
  END $do$`;
}

export class ReportsDirtyNoWait1763801970000 implements MigrationInterface {
  name = 'ReportsDirtyNoWait1763801970000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(fn('report_mark_dirty_wait', WAIT_BODY));
    await queryRunner.query(expansionCalling('report_mark_dirty', 'report_mark_dirty_wait'));
    await queryRunner.query(fn('report_mark_dirty', NO_WAIT_BODY));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(fn('report_mark_dirty', WAIT_BODY));
    await queryRunner.query(expansionCalling('report_mark_dirty_wait', 'report_mark_dirty'));
    await queryRunner.query(`DROP FUNCTION report_mark_dirty_wait(text[], text[], date[])`);
  }
}
