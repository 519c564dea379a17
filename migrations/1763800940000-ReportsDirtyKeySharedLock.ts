import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dirty keys without serialising writers. The first triggers upserted every
 * key with ON CONFLICT DO UPDATE: a row lock per key, held to the writer's
 * commit. A back-dated write (an instance open since 2016 marks ~4,000 days)
 * then rewrote thousands of keys, and concurrent writers of one project
 * queued behind each other on the same rows: the collector draining a
 * backlog of old notifications stalled (CI, collector-durability).
 *
 * Now `report_mark_dirty` inserts the missing keys (ON CONFLICT DO NOTHING)
 * and takes a shared FOR KEY SHARE lock on all of them, held to the commit:
 * writers share it, while the drain's FOR UPDATE SKIP LOCKED passes the keys
 * by until every writer holding them has committed, so a change can never be
 * read by a drain before its key is dirty. A key a drain deleted between the
 * insert and the lock is inserted again (the loop).
 */
export const MARK = `
  CREATE OR REPLACE FUNCTION report_mark_dirty(p text[], s text[], d date[]) RETURNS void
  LANGUAGE plpgsql SET jit = off AS $$
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
  END $$`;

const CLOCK = `(SELECT * FROM report_clock FOR KEY SHARE) c`;

/** Each trigger function: its distinct keys, then report_mark_dirty. */
function trigger(name: string, keys: string): string {
  return `
  CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
  BEGIN
    PERFORM report_mark_dirty(array_agg(x.project_id), array_agg(x.site), array_agg(x.day))
    FROM (SELECT DISTINCT * FROM (${keys}) y) AS x(project_id, site, day);
    RETURN NULL;
  END $$`;
}

const almanachSpan = (rows: string) => `
  SELECT r.project_id, c.cloud_site, d.day
  FROM ${rows} r CROSS JOIN ${CLOCK}
  CROSS JOIN LATERAL report_span_days(r.start, r."end", c.time_zone, c.booked_day) AS d(day)`;

const ALMANACH_UPDATE = `
  SELECT s.project_id, c.cloud_site, d.day
  FROM (
    SELECT o.project_id AS o_project, o.start AS o_start, o."end" AS o_end,
           n.project_id AS n_project, n.start AS n_start, n."end" AS n_end,
           (o.project_id, o.entity_type, o.flavor, o.volume_type, o.size)
             IS DISTINCT FROM (n.project_id, n.entity_type, n.flavor, n.volume_type, n.size) AS measured
    FROM old_rows o JOIN new_rows n ON n.id = o.id
  ) p
  CROSS JOIN LATERAL (
    SELECT p.o_project, p.o_start, p.o_end WHERE p.measured
    UNION ALL SELECT p.n_project, p.n_start, p.n_end WHERE p.measured
    UNION ALL SELECT p.n_project, least(p.o_start, p.n_start), greatest(p.o_start, p.n_start)
      WHERE NOT p.measured AND p.o_start <> p.n_start
    UNION ALL SELECT p.n_project,
           least(coalesce(p.o_end, 'infinity'), coalesce(p.n_end, 'infinity')),
           greatest(coalesce(p.o_end, 'infinity'), coalesce(p.n_end, 'infinity'))
      WHERE NOT p.measured AND p.o_end IS DISTINCT FROM p.n_end
  ) AS s(project_id, a, b)
  CROSS JOIN ${CLOCK}
  CROSS JOIN LATERAL report_span_days(s.a, s.b, c.time_zone, c.booked_day) AS d(day)`;

const amieDays = (rows: string) => `
  SELECT r.local_project_id, r.site, least(report_local_day(coalesce(r.usage_end, r.usage_start), c.time_zone), c.booked_day)
  FROM ${rows} r CROSS JOIN ${CLOCK}
  WHERE coalesce(r.usage_end, r.usage_start) IS NOT NULL`;

export class ReportsDirtyKeySharedLock1763800940000 implements MigrationInterface {
  name = 'ReportsDirtyKeySharedLock1763800940000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(MARK);
    await queryRunner.query(trigger('report_dirty_almanach_insert', almanachSpan('new_rows')));
    await queryRunner.query(trigger('report_dirty_almanach_delete', almanachSpan('old_rows')));
    await queryRunner.query(trigger('report_dirty_almanach_update', ALMANACH_UPDATE));
    await queryRunner.query(trigger('report_dirty_amie_insert', amieDays('new_rows')));
    await queryRunner.query(trigger('report_dirty_amie_delete', amieDays('old_rows')));
    await queryRunner.query(trigger('report_dirty_amie_update', amieDays('(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)')));
  }

  public async down(): Promise<void> {
    // The earlier bodies live in 1763800600000-Reports.ts; going back means re-running that migration's functions.
    throw new Error('ReportsDirtyKeySharedLock cannot be reverted in place');
  }
}
