import { MigrationInterface, QueryRunner } from 'typeorm';
import { MARK } from './1763800940000-ReportsDirtyKeySharedLock';
import { EXPAND } from './1763801900000-ReportsDirtyRange';

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
 * The expansion (`report_dirty_range_expand`) does the same: it locks the
 * keys it marks FOR NO KEY UPDATE SKIP LOCKED (it also moves their
 * `first_dirtied_at` back to the range's) and puts each key a drain holds
 * back as a one-day range with the range's `first_dirtied_at` (the lag still
 * counts from the write). Before, it waited for the drain while holding the
 * keys it had just inserted, and a writer of one of those keys waited for it
 * (seen under the bench: an AMIE load behind an expansion behind a drain).
 * It answers the days it turned into keys, not those it put back, so a drain
 * loop whose only work is a range behind another worker's batch stops and
 * comes back on its next tick instead of spinning.
 */
const NO_WAIT_MARK = `
  CREATE OR REPLACE FUNCTION report_mark_dirty(p text[], s text[], d date[]) RETURNS void
  LANGUAGE plpgsql SET jit = off AS $$
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
  END $$`;

/**
 * The tail of 1763801900000's expansion, from its first comment to its
 * `RETURN`: mark the keys the writers' way (waiting), then move their time
 * back to the range's.
 */
const TAIL_FROM = `    -- The writer's protocol: every key present and share-locked to the commit.`;
const TAIL_TO = `RETURN done;`;

/**
 * The new tail: lock the keys no drain holds (in key order: two expansions
 * never deadlock), move their time back to the range's, and put the others
 * back as one-day ranges dirty since the range's time; answer the days that
 * became keys.
 */
const NO_WAIT_TAIL = `
    WITH held AS (
      SELECT k.project_id, k.site, k.day, u.at FROM report_dirty_key k
      JOIN unnest(v_p, v_s, v_d, v_ats) AS u(p, s, d, at) ON k.project_id = u.p AND k.site = u.s AND k.day = u.d
      ORDER BY k.project_id, k.site, k.day
      FOR NO KEY UPDATE OF k SKIP LOCKED
    ), earlier AS (
      UPDATE report_dirty_key k SET first_dirtied_at = h.at FROM held h
      WHERE k.project_id = h.project_id AND k.site = h.site AND k.day = h.day AND k.first_dirtied_at > h.at
    )
    INSERT INTO report_dirty_range (project_id, site, first_day, last_day, first_dirtied_at)
    SELECT u.p, u.s, u.d, u.d, u.at FROM unnest(v_p, v_s, v_d, v_ats) AS u(p, s, d, at)
    WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.project_id = u.p AND h.site = u.s AND h.day = u.d)
    ORDER BY 1, 2, 3;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN done - n;`;

/** 1763801900000's expansion with its tail replaced by `tail`. */
function expansion(tail: string): string {
  const from = EXPAND.indexOf(TAIL_FROM);
  const to = EXPAND.indexOf(TAIL_TO, from);
  if (from < 0 || to < 0) throw new Error('1763801900000-ReportsDirtyRange: the expansion does not end as expected');
  return EXPAND.slice(0, from) + tail + EXPAND.slice(to + TAIL_TO.length);
}

export class ReportsDirtyNoWait1763801970000 implements MigrationInterface {
  name = 'ReportsDirtyNoWait1763801970000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(NO_WAIT_MARK);
    await queryRunner.query(expansion(NO_WAIT_TAIL));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(MARK);
    await queryRunner.query(EXPAND);
  }
}
