import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dirty ranges (reports.md §7.2, issue 9). A back-dated Almanach write marked
 * one key per day since its date in the writer's transaction: an instance
 * created in 2016 wrote ~3,800 keys (and share-locked them) before the
 * write could commit, 40× slower on embedded PostgreSQL, and the latency
 * grew with how far back the write was dated.
 *
 * Now a changed row's span of more than RANGE_MIN_DAYS days is recorded as
 * ONE `report_dirty_range` row (project, site, first day, last day; the last
 * day is the booked day for an open span, as before) instead of its keys;
 * the spans of one statement are merged per (project, site) first. Shorter
 * spans mark keys as before (`report_mark_dirty`). A range row is a plain
 * insert with a generated id: it never conflicts with another writer nor
 * with the key protocol, and it is invisible to the drain until the writer
 * commits.
 *
 * The drain turns ranges into keys with `report_dirty_range_expand(max)`,
 * one transaction per call: it takes the oldest ranges FOR UPDATE SKIP
 * LOCKED, marks the keys of at most `max` of their first days through
 * `report_mark_dirty` (the same insert-and-share-lock protocol as a writer,
 * so a drain holding one of those keys is waited for and the key written
 * again after it), carries the range's first_dirtied_at onto the keys
 * (the lag stays the age of the write), and shrinks or deletes the ranges.
 * Keys and the range shrink in one commit, so in every snapshot a day is
 * dirty through the range or through its key; a worker dying mid-expansion
 * rolls its chunk back and the range is as it was.
 *
 * The late-data horizon (1763801300000-LateHorizon) is checked over every
 * day of every span, as before, before anything is marked.
 */
export const RANGE_MIN_DAYS = 32;

const TABLE = `
  CREATE TABLE "report_dirty_range" (
    "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    "project_id" text NOT NULL,
    "site" text NOT NULL,
    "first_day" date NOT NULL,
    "last_day" date NOT NULL,
    "first_dirtied_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    CONSTRAINT "report_dirty_range_pk" PRIMARY KEY ("id")
  )`;

/** The first and last day report_span_days would list (never empty: hi ≥ lo). */
const BOUNDS = `
  CREATE OR REPLACE FUNCTION report_span_bounds(a timestamptz, b timestamptz, tz text, booked date, OUT lo date, OUT hi date)
  LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT x.lo, greatest(x.lo, x.hi)
    FROM (
      SELECT least(report_local_day(a, tz), booked) AS lo,
             CASE WHEN b IS NULL OR b = 'infinity' THEN booked
                  ELSE least(report_local_day(b - interval '1 microsecond', tz), booked) END AS hi
    ) x
  $$`;

/**
 * The expansion merges touching ranges (reports.md §7.2). Every back-dated
 * write inserts a range row of its own (a new row never waits for another
 * writer), so a project written often far back — an instance created open
 * months ago is a range to the booked day — piles up ranges over the same
 * days: 5,000 such writes in ten projects left 4,345 ranges of ~400 days,
 * 1.7M key-days for the expansion to mark where keys, deduplicated by their
 * primary key, had been 7,000.
 *
 * `report_dirty_range_expand` merges into the range it takes every
 * other range of the same (project, site) that overlaps or touches it and
 * that no other transaction holds (FOR UPDATE SKIP LOCKED), until none is
 * left: the union of touching intervals is one interval, dirty since the
 * earliest of them. Safe: a range it can see is committed, and the expansion
 * goes on from the union's first day, so it marks every day of the merged
 * ones before the range is gone (days it had marked already are marked again,
 * which changes nothing). A range an uncommitted writer is inserting is not
 * visible and expands on its own later.
 */
export const EXPAND = `
  CREATE OR REPLACE FUNCTION report_dirty_range_expand(max_days integer) RETURNS integer
  LANGUAGE plpgsql SET jit = off AS $$
  DECLARE
    r record;
    budget integer := max_days;
    n integer;
    done integer := 0;
    v_lo date;
    v_hi date;
    v_first date;
    v_last date;
    v_since timestamptz;
    v_at timestamptz;
    v_merged integer;
    v_p text[] := '{}';
    v_s text[] := '{}';
    v_d date[] := '{}';
    v_ats timestamptz[] := '{}';
  BEGIN
    WHILE budget > 0 LOOP
      SELECT g.id, g.project_id, g.site, g.first_day, g.last_day, g.first_dirtied_at INTO r
      FROM report_dirty_range g ORDER BY g.first_dirtied_at, g.id LIMIT 1 FOR UPDATE SKIP LOCKED;
      EXIT WHEN NOT FOUND;
      v_first := r.first_day;
      v_last := r.last_day;
      v_since := r.first_dirtied_at;
      -- Every other range of the project and site touching this one, while there are some no one holds.
      LOOP
        WITH m AS (
          SELECT g.id FROM report_dirty_range g
          WHERE g.project_id = r.project_id AND g.site = r.site AND g.id <> r.id
            AND g.first_day <= v_last + 1 AND g.last_day >= v_first - 1
          FOR UPDATE SKIP LOCKED
        ), gone AS (
          DELETE FROM report_dirty_range x USING m WHERE x.id = m.id RETURNING x.first_day, x.last_day, x.first_dirtied_at
        )
        SELECT min(gone.first_day), max(gone.last_day), min(gone.first_dirtied_at), count(*) INTO v_lo, v_hi, v_at, v_merged FROM gone;
        EXIT WHEN v_merged = 0;
        v_first := least(v_first, v_lo);
        v_last := greatest(v_last, v_hi);
        v_since := least(v_since, v_at);
      END LOOP;
      n := least(budget, v_last - v_first + 1);
      SELECT v_p || array_agg(r.project_id), v_s || array_agg(r.site), v_d || array_agg(g.day::date), v_ats || array_agg(v_since)
        INTO v_p, v_s, v_d, v_ats
      FROM generate_series(v_first, v_first + (n - 1), interval '1 day') AS g(day);
      IF v_first + n > v_last THEN
        DELETE FROM report_dirty_range WHERE id = r.id;
      ELSE
        UPDATE report_dirty_range SET first_day = v_first + n, last_day = v_last, first_dirtied_at = v_since WHERE id = r.id;
      END IF;
      budget := budget - n;
      done := done + n;
    END LOOP;
    IF done = 0 THEN RETURN 0; END IF;
    -- The distinct keys, each with the earliest time a range marked it.
    SELECT array_agg(x.p ORDER BY x.p, x.s, x.d), array_agg(x.s ORDER BY x.p, x.s, x.d), array_agg(x.d ORDER BY x.p, x.s, x.d), array_agg(x.at ORDER BY x.p, x.s, x.d)
      INTO v_p, v_s, v_d, v_ats
    FROM (SELECT u.p, u.s, u.d, min(u.at) AS at FROM unnest(v_p, v_s, v_d, v_ats) AS u(p, s, d, at) GROUP BY 1, 2, 3) x;
    INSERT INTO report_dirty_key (project_id, site, day, first_dirtied_at)
    SELECT * FROM unnest(v_p, v_s, v_d, v_ats) ORDER BY 1, 2, 3
    ON CONFLICT (project_id, site, day) DO NOTHING;
    -- The writer's protocol: every key present and share-locked to the commit.
    PERFORM report_mark_dirty(v_p, v_s, v_d);
    -- A key dirty since later than the range: the range's time is the one that counts (lag).
    -- Locked in key order first, so two expansions never deadlock on the update.
    PERFORM 1 FROM report_dirty_key k
      JOIN unnest(v_p, v_s, v_d, v_ats) AS u(p, s, d, at) ON k.project_id = u.p AND k.site = u.s AND k.day = u.d
      WHERE k.first_dirtied_at > u.at
      ORDER BY k.project_id, k.site, k.day
      FOR NO KEY UPDATE OF k;
    UPDATE report_dirty_key k SET first_dirtied_at = u.at
    FROM unnest(v_p, v_s, v_d, v_ats) AS u(p, s, d, at)
    WHERE k.project_id = u.p AND k.site = u.s AND k.day = u.d AND k.first_dirtied_at > u.at;
    RETURN done;
  END $$`;

/**
 * Each Almanach trigger function: the clock once, the distinct spans of the
 * changed rows, the horizon over their days, then keys for short spans and
 * one range per (project, site) island of long spans.
 */
function trigger(name: string, spans: string): string {
  return `
  CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
  DECLARE
    v_tz text;
    v_site text;
    v_booked date;
    v_horizon integer;
    v_sp text[];
    v_lo date[];
    v_hi date[];
    v_projects text[];
    v_sites text[];
    v_days date[];
    v_short boolean;
    v_long boolean;
    v_cutoff date;
    v_refused date;
  BEGIN
    SELECT c.time_zone, c.cloud_site, c.booked_day, c.late_horizon_days INTO v_tz, v_site, v_booked, v_horizon
    FROM report_clock c FOR KEY SHARE;
    IF NOT FOUND THEN RETURN NULL; END IF;
    SELECT array_agg(x.project_id), array_agg(x.lo), array_agg(x.hi),
           bool_or(x.hi - x.lo < ${RANGE_MIN_DAYS - 1}), bool_or(x.hi - x.lo >= ${RANGE_MIN_DAYS - 1})
      INTO v_sp, v_lo, v_hi, v_short, v_long
    FROM (SELECT DISTINCT * FROM (${spans}) y) AS x(project_id, lo, hi);
    IF v_sp IS NULL THEN RETURN NULL; END IF;
    IF v_horizon > 0 THEN
      -- Oldest first: the first refused day ends the search.
      v_cutoff := report_local_day(now() - make_interval(hours => 24 * v_horizon), v_tz);
      SELECT u.day INTO v_refused
      FROM (SELECT DISTINCT g.day::date FROM unnest(v_lo, v_hi) AS s(lo, hi)
            CROSS JOIN LATERAL generate_series(s.lo, least(s.hi, v_cutoff), interval '1 day') AS g(day)
            WHERE s.lo <= v_cutoff) AS u(day)
      WHERE report_horizon_refuses(report_day_start(u.day, v_tz))
      ORDER BY u.day LIMIT 1;
      IF v_refused IS NOT NULL THEN
        RAISE EXCEPTION USING
          ERRCODE = 'LH001',
          MESSAGE = format('Change reaches %s, beyond the late-data horizon of %s days', to_char(v_refused, 'YYYY-MM-DD'), v_horizon);
      END IF;
    END IF;
    -- Short spans: their keys, as before.
    IF v_short THEN
      SELECT array_agg(x.project_id), array_agg(x.site), array_agg(x.day) INTO v_projects, v_sites, v_days
      FROM (SELECT DISTINCT s.project_id, v_site, g.day::date
            FROM unnest(v_sp, v_lo, v_hi) AS s(project_id, lo, hi)
            CROSS JOIN LATERAL generate_series(s.lo, s.hi, interval '1 day') AS g(day)
            WHERE s.hi - s.lo < ${RANGE_MIN_DAYS - 1}) AS x(project_id, site, day);
      PERFORM report_mark_dirty(v_projects, v_sites, v_days);
    END IF;
    -- Long spans: one range per island of overlapping or adjacent spans of a project.
    IF v_long THEN
      INSERT INTO report_dirty_range (project_id, site, first_day, last_day)
      SELECT b.project_id, v_site, min(b.lo), max(b.hi)
      FROM (
        SELECT a.project_id, a.lo, a.hi,
               sum(CASE WHEN a.prev IS NULL OR a.lo > a.prev + 1 THEN 1 ELSE 0 END)
                 OVER (PARTITION BY a.project_id ORDER BY a.lo, a.hi ROWS UNBOUNDED PRECEDING) AS grp
        FROM (
          SELECT s.project_id, s.lo, s.hi,
                 max(s.hi) OVER (PARTITION BY s.project_id ORDER BY s.lo, s.hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
          FROM unnest(v_sp, v_lo, v_hi) AS s(project_id, lo, hi)
          WHERE s.hi - s.lo >= ${RANGE_MIN_DAYS - 1}
        ) a
      ) b
      GROUP BY b.project_id, b.grp
      ORDER BY 1, 3;
    END IF;
    RETURN NULL;
  END $$`;
}

const almanachSpan = (rows: string) => `
  SELECT r.project_id, b.lo, b.hi
  FROM ${rows} r
  CROSS JOIN LATERAL report_span_bounds(r.start, r."end", v_tz, v_booked) AS b`;

/** The spans of 1763801300000-LateHorizon's update trigger (§7.2's table), as bounds. */
const ALMANACH_UPDATE = `
  SELECT s.project_id, b.lo, b.hi
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
  CROSS JOIN LATERAL report_span_bounds(s.a, s.b, v_tz, v_booked) AS b`;

export class ReportsDirtyRange1763801900000 implements MigrationInterface {
  name = 'ReportsDirtyRange1763801900000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(TABLE);
    await queryRunner.query(`CREATE INDEX "report_dirty_range_order_idx" ON "report_dirty_range" ("first_dirtied_at", "id")`);
    await queryRunner.query(`CREATE INDEX "report_dirty_range_key_idx" ON "report_dirty_range" ("project_id", "site", "first_day")`);
    await queryRunner.query(BOUNDS);
    await queryRunner.query(EXPAND);
    await queryRunner.query(trigger('report_dirty_almanach_insert', almanachSpan('new_rows')));
    await queryRunner.query(trigger('report_dirty_almanach_delete', almanachSpan('old_rows')));
    await queryRunner.query(trigger('report_dirty_almanach_update', ALMANACH_UPDATE));
  }

  public async down(): Promise<void> {
    // The earlier trigger bodies live in 1763801300000-LateHorizon.ts; going back means re-running them after expanding every range.
    throw new Error('ReportsDirtyRange cannot be reverted in place');
  }
}
