import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The late-data horizon (reports.md §5.4): `report_horizon_refuses`, the one
 * rule both sources read, and the Almanach dirty-key triggers (§7.2) raising
 * SQLSTATE `LH001` when a changed row marks a day beyond the horizon.
 *
 * A day is refused when `report_clock.late_horizon_days` (recorded at each
 * start from LATE_HORIZON_DAYS) is above 0, the day started before
 * now − that many days (× 24 h), and no active backfill window (`expires_at`
 * later than now) covers it. Windows are day-aligned, so a day is covered
 * when its start lies in `[start, end)`.
 *
 * The trigger functions are those of 1763800940000-ReportsDirtyKeySharedLock
 * with the clock read once into variables (FOR KEY SHARE, as before) instead
 * of joined into each key query: the keys are computed as before, then, only
 * when the horizon is set, the earliest marked day that the rule refuses is
 * looked for. With the horizon 0 (the default) the cost is that one read of
 * the clock. The keys are per changed row (§7.2), so a row that marks nothing
 * (a rename, metadata) is never refused, and a version split dated beyond the
 * horizon is (the closed version marks from the split on). The AMIE triggers
 * are unchanged: the AMIE loader applies the rule per record before its
 * upsert (src/reports/rating/horizon/).
 */
const REFUSES = `
  CREATE OR REPLACE FUNCTION report_horizon_refuses(day_start timestamptz) RETURNS boolean
  LANGUAGE sql STABLE SET jit = off AS $$
    SELECT EXISTS (
      SELECT 1 FROM report_clock c
      WHERE c.late_horizon_days > 0
        AND day_start < now() - make_interval(hours => 24 * c.late_horizon_days)
        AND NOT EXISTS (
          SELECT 1 FROM report_backfill b
          WHERE b.expires_at > now() AND b.start <= day_start AND day_start < b."end"
        )
    )
  $$`;

/** Each Almanach trigger function: the clock once, its distinct keys, the horizon, then report_mark_dirty. */
function trigger(name: string, keys: string): string {
  return `
  CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
  DECLARE
    v_tz text;
    v_site text;
    v_booked date;
    v_horizon integer;
    v_projects text[];
    v_sites text[];
    v_days date[];
    v_refused date;
  BEGIN
    SELECT c.time_zone, c.cloud_site, c.booked_day, c.late_horizon_days INTO v_tz, v_site, v_booked, v_horizon
    FROM report_clock c FOR KEY SHARE;
    IF NOT FOUND THEN RETURN NULL; END IF;
    SELECT array_agg(x.project_id), array_agg(x.site), array_agg(x.day) INTO v_projects, v_sites, v_days
    FROM (SELECT DISTINCT * FROM (${keys}) y) AS x(project_id, site, day);
    IF v_horizon > 0 AND v_days IS NOT NULL THEN
      -- Oldest first: the first refused day ends the search.
      SELECT u.day INTO v_refused
      FROM (SELECT DISTINCT day FROM unnest(v_days) AS t(day)) AS u(day)
      WHERE u.day <= report_local_day(now() - make_interval(hours => 24 * v_horizon), v_tz)
        AND report_horizon_refuses(report_day_start(u.day, v_tz))
      ORDER BY u.day LIMIT 1;
      IF v_refused IS NOT NULL THEN
        RAISE EXCEPTION USING
          ERRCODE = 'LH001',
          MESSAGE = format('Change reaches %s, beyond the late-data horizon of %s days', to_char(v_refused, 'YYYY-MM-DD'), v_horizon);
      END IF;
    END IF;
    PERFORM report_mark_dirty(v_projects, v_sites, v_days);
    RETURN NULL;
  END $$`;
}

const almanachSpan = (rows: string) => `
  SELECT r.project_id, v_site, d.day
  FROM ${rows} r
  CROSS JOIN LATERAL report_span_days(r.start, r."end", v_tz, v_booked) AS d(day)`;

const ALMANACH_UPDATE = `
  SELECT s.project_id, v_site, d.day
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
  CROSS JOIN LATERAL report_span_days(s.a, s.b, v_tz, v_booked) AS d(day)`;

export class LateHorizon1763801300000 implements MigrationInterface {
  name = 'LateHorizon1763801300000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(REFUSES);
    await queryRunner.query(trigger('report_dirty_almanach_insert', almanachSpan('new_rows')));
    await queryRunner.query(trigger('report_dirty_almanach_delete', almanachSpan('old_rows')));
    await queryRunner.query(trigger('report_dirty_almanach_update', ALMANACH_UPDATE));
  }

  public async down(): Promise<void> {
    // The earlier trigger bodies live in 1763800940000-ReportsDirtyKeySharedLock.ts; going back means re-running them.
    throw new Error('LateHorizon cannot be reverted in place');
  }
}
