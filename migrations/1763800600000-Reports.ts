import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage reports (reports.md §2, §3, §7.1–7.2): the accounting clock, the
 * flavor catalogue and its audit, the rollup cells, and the statement-level
 * triggers that record dirty (project, site, day) keys in the transaction of
 * every Almanach and AMIE write — the protocol modules stay unaware of
 * reports.
 *
 * Local days are days of `report_clock.time_zone`; `report_day_start` is the
 * contract's "earliest instant of the local date" rule (§1.5) and the only
 * place it is written.
 */
/** The body of `report_day_start` as this migration creates it (1763801960000 replaces it, and restores it on the way down). */
export const DAY_START_BODY = `$$
        SELECT min(c.at) FROM (
          SELECT (d::timestamp AT TIME ZONE tz) - o.step AS at, o.step
          FROM unnest(ARRAY[interval '0', interval '30 minutes', interval '1 hour', interval '2 hours']) AS o(step)
        ) c
        WHERE c.step = interval '0' OR (c.at AT TIME ZONE tz) = d::timestamp
      $$`;

export class Reports1763800600000 implements MigrationInterface {
  name = 'Reports1763800600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // --- the clock: configuration fixed at the first start, the booked horizon
    await queryRunner.query(`
      CREATE TABLE "report_clock" (
        "id" smallint NOT NULL DEFAULT 1,
        "time_zone" text NOT NULL,
        "cloud_site" text NOT NULL,
        "booked_day" date NOT NULL,
        "late_horizon_days" integer NOT NULL DEFAULT 0,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "report_clock_one_row_ck" CHECK ("id" = 1),
        CONSTRAINT "report_clock_pk" PRIMARY KEY ("id")
      )`);

    // --- flavor catalogue (§2.4) and the audit shared with prices (§4.4)
    await queryRunner.query(`
      CREATE TABLE "report_flavor" (
        "name" text NOT NULL,
        "vcpus" integer NOT NULL,
        "ram_mb" integer NOT NULL,
        "disk_gb" integer NOT NULL,
        "gpus" integer NOT NULL DEFAULT 0,
        "description" text NOT NULL DEFAULT '',
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_by" text NOT NULL,
        CONSTRAINT "report_flavor_sizes_ck" CHECK ("vcpus" >= 0 AND "ram_mb" >= 0 AND "disk_gb" >= 0 AND "gpus" >= 0),
        CONSTRAINT "report_flavor_pk" PRIMARY KEY ("name")
      )`);
    await queryRunner.query(`
      CREATE TABLE "report_flavor_alias" (
        "alias" text NOT NULL,
        "flavor_name" text NOT NULL,
        CONSTRAINT "report_flavor_alias_pk" PRIMARY KEY ("alias"),
        CONSTRAINT "report_flavor_alias_flavor_fk" FOREIGN KEY ("flavor_name") REFERENCES "report_flavor"("name") ON DELETE CASCADE ON UPDATE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "report_flavor_alias_flavor_idx" ON "report_flavor_alias" ("flavor_name")`);
    await queryRunner.query(`
      CREATE TABLE "report_audit" (
        "id" text NOT NULL,
        "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "actor" text NOT NULL,
        "action" text NOT NULL,
        "object" text NOT NULL,
        "object_id" text NOT NULL,
        "price_list_id" text,
        "before" jsonb,
        "after" jsonb,
        "reason" text,
        CONSTRAINT "report_audit_pk" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "report_audit_object_idx" ON "report_audit" ("object", "object_id", "at")`);

    // --- rollups (§7.1)
    await queryRunner.query(`
      CREATE TABLE "report_dirty_key" (
        "project_id" text NOT NULL,
        "site" text NOT NULL,
        "day" date NOT NULL,
        "first_dirtied_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "report_dirty_key_pk" PRIMARY KEY ("project_id", "site", "day")
      )`);
    await queryRunner.query(`CREATE INDEX "report_dirty_key_age_idx" ON "report_dirty_key" ("first_dirtied_at")`);
    await queryRunner.query(`
      CREATE TABLE "report_usage_day_cell" (
        "project_id" text NOT NULL,
        "site" text NOT NULL,
        "day" date NOT NULL,
        "meter" text NOT NULL,
        "key" text NOT NULL,
        "subkey" text NOT NULL,
        "quantity" numeric NOT NULL,
        "items" integer NOT NULL,
        CONSTRAINT "report_usage_day_cell_pk" PRIMARY KEY ("project_id", "site", "day", "meter", "key", "subkey")
      )`);
    await queryRunner.query(`CREATE INDEX "report_usage_day_cell_day_idx" ON "report_usage_day_cell" ("day", "project_id")`);
    await queryRunner.query(`
      CREATE TABLE "report_usage_today_cell" (
        "project_id" text NOT NULL,
        "site" text NOT NULL,
        "day" date NOT NULL,
        "meter" text NOT NULL,
        "key" text NOT NULL,
        "subkey" text NOT NULL,
        "closed_part" numeric NOT NULL,
        "open_weight" numeric NOT NULL,
        "open_anchor" numeric NOT NULL,
        "max_open_start" TIMESTAMP WITH TIME ZONE,
        "max_closed_end" TIMESTAMP WITH TIME ZONE,
        "items" integer NOT NULL,
        CONSTRAINT "report_usage_today_cell_pk" PRIMARY KEY ("project_id", "site", "day", "meter", "key", "subkey")
      )`);
    await queryRunner.query(`CREATE INDEX "report_usage_today_cell_day_idx" ON "report_usage_today_cell" ("day")`);
    await queryRunner.query(`
      CREATE TABLE "report_usage_month_cell" (
        "project_id" text NOT NULL,
        "site" text NOT NULL,
        "month" date NOT NULL,
        "meter" text NOT NULL,
        "key" text NOT NULL,
        "subkey" text NOT NULL,
        "quantity" numeric NOT NULL,
        "cells" integer NOT NULL,
        CONSTRAINT "report_usage_month_cell_pk" PRIMARY KEY ("project_id", "site", "month", "meter", "key", "subkey")
      )`);
    await queryRunner.query(`CREATE INDEX "report_usage_month_cell_month_idx" ON "report_usage_month_cell" ("month", "project_id")`);
    await queryRunner.query(`
      CREATE TABLE "report_usage_site_day_cell" (
        "site" text NOT NULL,
        "day" date NOT NULL,
        "meter" text NOT NULL,
        "key" text NOT NULL,
        "subkey" text NOT NULL,
        "quantity" numeric NOT NULL,
        "cells" integer NOT NULL,
        CONSTRAINT "report_usage_site_day_cell_pk" PRIMARY KEY ("site", "day", "meter", "key", "subkey")
      )`);
    await queryRunner.query(`CREATE INDEX "report_usage_site_day_cell_day_idx" ON "report_usage_site_day_cell" ("day")`);

    // Reports read AMIE records of one project-day through this btree (§7.3).
    await queryRunner.query(
      `CREATE INDEX "amie_usage_record_attribution_idx" ON "amie_usage_record" ("local_project_id", (coalesce("usage_end", "usage_start")))`,
    );

    // --- local days (§1.5)
    // The earliest instant whose local date is d: PostgreSQL reads an
    // ambiguous local midnight as the later instant, so the earlier candidates
    // one half-hour, one hour and two hours before are tried too; a skipped
    // midnight resolves to the first instant that exists.
    await queryRunner.query(`
      CREATE FUNCTION report_day_start(d date, tz text) RETURNS timestamptz
      LANGUAGE sql STABLE PARALLEL SAFE AS ${DAY_START_BODY}`);
    await queryRunner.query(`
      CREATE FUNCTION report_local_day(t timestamptz, tz text) RETURNS date
      LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT (t AT TIME ZONE tz)::date $$`);
    // The local days a span [a, b) meets (b null or infinity: open), none
    // later than the booked day: a span reaching past it marks the booked
    // day, whose today cell it changes (§7.2).
    await queryRunner.query(`
      CREATE FUNCTION report_span_days(a timestamptz, b timestamptz, tz text, booked date) RETURNS SETOF date
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT generate_series(x.lo, greatest(x.lo, x.hi), interval '1 day')::date
        FROM (
          SELECT least(report_local_day(a, tz), booked) AS lo,
                 CASE WHEN b IS NULL OR b = 'infinity' THEN booked
                      ELSE least(report_local_day(b - interval '1 microsecond', tz), booked) END AS hi
        ) x
      $$`);

    // --- dirty keys, written by the database (§7.2)
    // Every trigger reads the clock FOR KEY SHARE: the day roll takes it FOR
    // UPDATE, so a write either commits before the roll looks for the
    // projects of the new day, or reads the advanced booked day.
    // ON CONFLICT DO UPDATE (a no-op update) rather than DO NOTHING: it waits
    // for a worker holding the key FOR UPDATE, so a write committed after the
    // worker read its snapshot always leaves the key dirty again.
    const upsert = `ON CONFLICT ("project_id", "site", "day") DO UPDATE SET "first_dirtied_at" = "report_dirty_key"."first_dirtied_at"`;
    await queryRunner.query(`
      CREATE FUNCTION report_dirty_almanach_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO report_dirty_key (project_id, site, day)
        SELECT DISTINCT n.project_id, c.cloud_site, d.day
        FROM new_rows n CROSS JOIN (SELECT * FROM report_clock FOR KEY SHARE) c
        CROSS JOIN LATERAL report_span_days(n.start, n."end", c.time_zone, c.booked_day) AS d(day)
        ORDER BY 1, 2, 3
        ${upsert};
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION report_dirty_almanach_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO report_dirty_key (project_id, site, day)
        SELECT DISTINCT o.project_id, c.cloud_site, d.day
        FROM old_rows o CROSS JOIN (SELECT * FROM report_clock FOR KEY SHARE) c
        CROSS JOIN LATERAL report_span_days(o.start, o."end", c.time_zone, c.booked_day) AS d(day)
        ORDER BY 1, 2, 3
        ${upsert};
        RETURN NULL;
      END $$`);
    // Updates, by the table of §7.2: a change of what is measured marks the
    // old and the new span; a change of start or end only marks where the
    // spans differ; any other column marks nothing.
    await queryRunner.query(`
      CREATE FUNCTION report_dirty_almanach_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO report_dirty_key (project_id, site, day)
        SELECT DISTINCT s.project_id, c.cloud_site, d.day
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
        CROSS JOIN (SELECT * FROM report_clock FOR KEY SHARE) c
        CROSS JOIN LATERAL report_span_days(s.a, s.b, c.time_zone, c.booked_day) AS d(day)
        ORDER BY 1, 2, 3
        ${upsert};
        RETURN NULL;
      END $$`);
    for (const [event, fn, table] of [
      ['INSERT', 'report_dirty_almanach_insert', 'NEW TABLE AS new_rows'],
      ['UPDATE', 'report_dirty_almanach_update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'],
      ['DELETE', 'report_dirty_almanach_delete', 'OLD TABLE AS old_rows'],
    ]) {
      await queryRunner.query(
        `CREATE TRIGGER "report_dirty_almanach_${event.toLowerCase()}" AFTER ${event} ON "almanach_entity_version" REFERENCING ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
      );
    }

    // AMIE: the day of the attribution instant (§2.2) of the old and of the
    // new row, each with its own project and site.
    const amieDays = (rows: string) => `
        INSERT INTO report_dirty_key (project_id, site, day)
        SELECT DISTINCT r.local_project_id, r.site, least(report_local_day(coalesce(r.usage_end, r.usage_start), c.time_zone), c.booked_day)
        FROM ${rows} r CROSS JOIN (SELECT * FROM report_clock FOR KEY SHARE) c
        WHERE coalesce(r.usage_end, r.usage_start) IS NOT NULL
        ORDER BY 1, 2, 3
        ${upsert};`;
    await queryRunner.query(`
      CREATE FUNCTION report_dirty_amie_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN ${amieDays('new_rows')} RETURN NULL; END $$`);
    await queryRunner.query(`
      CREATE FUNCTION report_dirty_amie_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN ${amieDays('old_rows')} RETURN NULL; END $$`);
    await queryRunner.query(`
      CREATE FUNCTION report_dirty_amie_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN ${amieDays('(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)')} RETURN NULL; END $$`);
    for (const [event, fn, table] of [
      ['INSERT', 'report_dirty_amie_insert', 'NEW TABLE AS new_rows'],
      ['UPDATE', 'report_dirty_amie_update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'],
      ['DELETE', 'report_dirty_amie_delete', 'OLD TABLE AS old_rows'],
    ]) {
      await queryRunner.query(
        `CREATE TRIGGER "report_dirty_amie_${event.toLowerCase()}" AFTER ${event} ON "amie_usage_record" REFERENCING ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const event of ['insert', 'update', 'delete']) {
      await queryRunner.query(`DROP TRIGGER "report_dirty_amie_${event}" ON "amie_usage_record"`);
      await queryRunner.query(`DROP FUNCTION report_dirty_amie_${event}()`);
      await queryRunner.query(`DROP TRIGGER "report_dirty_almanach_${event}" ON "almanach_entity_version"`);
      await queryRunner.query(`DROP FUNCTION report_dirty_almanach_${event}()`);
    }
    await queryRunner.query(`DROP FUNCTION report_span_days(timestamptz, timestamptz, text, date)`);
    await queryRunner.query(`DROP FUNCTION report_local_day(timestamptz, text)`);
    await queryRunner.query(`DROP FUNCTION report_day_start(date, text)`);
    await queryRunner.query(`DROP INDEX "amie_usage_record_attribution_idx"`);
    for (const table of [
      'report_usage_site_day_cell',
      'report_usage_month_cell',
      'report_usage_today_cell',
      'report_usage_day_cell',
      'report_dirty_key',
      'report_audit',
      'report_flavor_alias',
      'report_flavor',
      'report_clock',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
