import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Almanach history partitioned by time (reports.md §7.3, issue 14).
 *
 * `almanach_entity_version` becomes `PARTITION BY RANGE (coalesce("end",
 * 'infinity'))`: one partition per month of the accounting zone
 * (`almanach_entity_version_YYYY_MM`), `almanach_entity_version_open` for the
 * open versions (from 'infinity' to MAXVALUE) and
 * `almanach_entity_version_default` for a closed version whose month has no
 * partition yet. Closing a version moves its row from the open partition to
 * its month. A listing or report of a recent window then reads the open
 * partition and the months from the window's start on, never the older ones.
 *
 * The table is rebuilt in place: the existing rows are copied with their ids
 * and the identity keeps its next value. PostgreSQL allows no primary key on a
 * table partitioned by an expression, so `almanach_entity_version_pk` becomes
 * a plain index on `id` (unique by construction: GENERATED ALWAYS AS
 * IDENTITY, kept when a row moves); the one-open-version rule becomes the
 * unique index `almanach_entity_version_one_open_uq` on the open partition,
 * which holds every open version. The other indexes and the statement-level
 * triggers (the /v1/info tally, the reports' dirty keys) are read off the old
 * table and declared again on the new parent as they were, so a later change
 * to them is carried over; they are created after the copy, so copying fires
 * none of them (the rows did not change).
 *
 * `almanach_version_ensure_month(month, zone)` creates one month's partition
 * if it is missing, moving that month's rows out of the default partition
 * first (a CREATE would otherwise fail on them). The migration calls it for
 * every month that holds a closed version and for the months around today;
 * the worker (`HistoryPartitionsLoop`) calls it ahead of time and for any
 * month found in the default partition, so the default stays empty
 * (`ledger_default_partition_rows`).
 *
 * The migration takes ACCESS EXCLUSIVE on the history for its duration:
 * writes wait, which is what a schema migration does anyway.
 */
export class AlmanachVersionPartitions1763801950000 implements MigrationInterface {
  name = 'AlmanachVersionPartitions1763801950000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`LOCK TABLE "almanach_entity_version" IN ACCESS EXCLUSIVE MODE`);
    const zone = await accountingZone(queryRunner);
    const { indexes, triggers } = await carried(queryRunner, ['almanach_entity_version_pk', 'almanach_entity_version_one_open_uq']);

    await queryRunner.query(`ALTER TABLE "almanach_entity_version" RENAME TO "almanach_entity_version_unpartitioned"`);
    await queryRunner.query(`
      CREATE TABLE "almanach_entity_version" (${COLUMNS}) PARTITION BY RANGE ((coalesce("end", 'infinity'::timestamptz)))`);
    await queryRunner.query(`
      CREATE TABLE "almanach_entity_version_open" PARTITION OF "almanach_entity_version"
        FOR VALUES FROM ('infinity') TO (MAXVALUE)`);
    await queryRunner.query(`CREATE TABLE "almanach_entity_version_default" PARTITION OF "almanach_entity_version" DEFAULT`);
    await queryRunner.query(ENSURE_MONTH);
    // Every month that holds a closed version, and the months around today (the worker keeps creating them ahead).
    await queryRunner.query(
      `SELECT almanach_version_ensure_month(m::date, $1)
       FROM (
         SELECT DISTINCT date_trunc('month', "end" AT TIME ZONE $1) AS m FROM "almanach_entity_version_unpartitioned" WHERE "end" IS NOT NULL
         UNION SELECT date_trunc('month', now() AT TIME ZONE $1) + make_interval(months => g) FROM generate_series(-1, ${MONTHS_AHEAD}) AS g
       ) months ORDER BY m`,
      [zone],
    );

    await queryRunner.query(`
      INSERT INTO "almanach_entity_version" OVERRIDING SYSTEM VALUE
      SELECT "id", "entity_id", "entity_type", "project_id", "start", "end", "last_event", "processed", "name", "flavor",
             "image_meta", "metadata", "volume_type", "size", "attached_to"
      FROM "almanach_entity_version_unpartitioned" ORDER BY "id"`);
    // The identity goes on from where the old one was (not from max(id): ids of deleted rows are never given again).
    const [old] = await queryRunner.query(`SELECT last_value::text AS last_value, is_called FROM "almanach_entity_version_id_seq"`);
    await queryRunner.query(`DROP TABLE "almanach_entity_version_unpartitioned"`);
    await queryRunner.query(`ALTER SEQUENCE "almanach_entity_version_id_seq1" RENAME TO "almanach_entity_version_id_seq"`);
    await queryRunner.query(`SELECT setval('almanach_entity_version_id_seq', $1::bigint, $2)`, [old.last_value, old.is_called]);

    await queryRunner.query(
      `ALTER TABLE "almanach_entity_version" ADD CONSTRAINT "almanach_entity_version_type_ck" CHECK ("entity_type" IN ('instance', 'volume'))`,
    );
    await queryRunner.query(
      `ALTER TABLE "almanach_entity_version" ADD CONSTRAINT "almanach_entity_version_period_ck" CHECK ("end" IS NULL OR "end" >= "start")`,
    );
    await queryRunner.query(`CREATE INDEX "almanach_entity_version_id_idx" ON "almanach_entity_version" ("id")`);
    // At most one open version per entity (almanach-v1.md 3.1): every open version is in this partition.
    await queryRunner.query(`CREATE UNIQUE INDEX "almanach_entity_version_one_open_uq" ON "almanach_entity_version_open" ("entity_id")`);
    for (const sql of [...indexes, ...triggers]) await queryRunner.query(sql);
    await queryRunner.query(`ANALYZE "almanach_entity_version"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`LOCK TABLE "almanach_entity_version" IN ACCESS EXCLUSIVE MODE`);
    const { indexes, triggers } = await carried(queryRunner, ['almanach_entity_version_id_idx']);
    await queryRunner.query(`ALTER TABLE "almanach_entity_version" RENAME TO "almanach_entity_version_partitioned"`);
    await queryRunner.query(`ALTER SEQUENCE "almanach_entity_version_id_seq" RENAME TO "almanach_entity_version_partitioned_id_seq"`);
    await queryRunner.query(`
      CREATE TABLE "almanach_entity_version" (${COLUMNS},
        CONSTRAINT "almanach_entity_version_type_ck" CHECK ("entity_type" IN ('instance', 'volume')),
        CONSTRAINT "almanach_entity_version_period_ck" CHECK ("end" IS NULL OR "end" >= "start"),
        CONSTRAINT "almanach_entity_version_pk" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`INSERT INTO "almanach_entity_version" OVERRIDING SYSTEM VALUE SELECT * FROM "almanach_entity_version_partitioned" ORDER BY "id"`);
    const [old] = await queryRunner.query(`SELECT last_value::text AS last_value, is_called FROM "almanach_entity_version_partitioned_id_seq"`);
    await queryRunner.query(`DROP TABLE "almanach_entity_version_partitioned"`);
    await queryRunner.query(`SELECT setval('almanach_entity_version_id_seq', $1::bigint, $2)`, [old.last_value, old.is_called]);
    await queryRunner.query(`DROP FUNCTION almanach_version_ensure_month(date, text)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "almanach_entity_version_one_open_uq" ON "almanach_entity_version" ("entity_id") WHERE "end" IS NULL`);
    for (const sql of [...indexes, ...triggers]) await queryRunner.query(sql);
  }
}

/** The history's columns as migration 1763800000000 made them (the rebuilt table in both directions). */
const COLUMNS = `
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "entity_id" text NOT NULL,
        "entity_type" text NOT NULL,
        "project_id" text NOT NULL,
        "start" TIMESTAMP WITH TIME ZONE NOT NULL,
        "end" TIMESTAMP WITH TIME ZONE,
        "last_event" TIMESTAMP WITH TIME ZONE NOT NULL,
        "processed" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "name" text,
        "flavor" text,
        "image_meta" jsonb,
        "metadata" jsonb,
        "volume_type" text,
        "size" integer,
        "attached_to" text array`;

/** Monthly partitions the migration creates ahead of the current month (the worker goes on: src/almanach/partitions). */
const MONTHS_AHEAD = 3;

/**
 * Creates the partition of the month of `p_month` (a date; its month's first
 * day in `p_zone` to the next month's) unless it exists; answers its name when
 * created, null otherwise. Rows of that month in the default partition are
 * moved into it in the same transaction: they are the same rows, so no
 * trigger of the parent fires (statement triggers fire on statements against
 * the parent only).
 */
const ENSURE_MONTH = `
  CREATE FUNCTION almanach_version_ensure_month(p_month date, p_zone text) RETURNS text
  LANGUAGE plpgsql SET jit = off AS $$
  DECLARE
    m date := date_trunc('month', p_month)::date;
    part text := 'almanach_entity_version_' || to_char(m, 'YYYY_MM');
    lo timestamptz := m::timestamp AT TIME ZONE p_zone;
    hi timestamptz := (m + interval '1 month')::timestamp AT TIME ZONE p_zone;
    moved bigint;
  BEGIN
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN RETURN NULL; END IF;
    CREATE TEMP TABLE IF NOT EXISTS almanach_version_moving (LIKE almanach_entity_version) ON COMMIT DROP;
    WITH gone AS (
      DELETE FROM almanach_entity_version_default WHERE coalesce("end", 'infinity') >= lo AND coalesce("end", 'infinity') < hi RETURNING *
    ) INSERT INTO almanach_version_moving SELECT * FROM gone;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('CREATE TABLE %I PARTITION OF almanach_entity_version FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    IF moved > 0 THEN
      EXECUTE format('INSERT INTO %I OVERRIDING SYSTEM VALUE SELECT * FROM almanach_version_moving', part);
    END IF;
    DELETE FROM almanach_version_moving;
    RETURN part;
  END $$`;

/**
 * The accounting zone of the reports: report_clock's once the service has
 * started; before, REPORT_TIME_ZONE if PostgreSQL knows it (the service then
 * refuses an unknown one with its own message), else UTC. Only where month
 * partitions start depends on it, never what a query answers.
 */
async function accountingZone(queryRunner: QueryRunner): Promise<string> {
  const [{ zone }]: { zone: string }[] = await queryRunner.query(
    `SELECT coalesce((SELECT time_zone FROM report_clock WHERE id = 1), (SELECT name FROM pg_timezone_names WHERE name = $1), 'UTC') AS zone`,
    [process.env.REPORT_TIME_ZONE ?? 'UTC'],
  );
  return zone;
}

/** The CREATE statements of the history's indexes (but `except`) and of its own triggers, as they are now. */
async function carried(queryRunner: QueryRunner, except: string[]): Promise<{ indexes: string[]; triggers: string[] }> {
  const indexes: { def: string }[] = await queryRunner.query(
    `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'almanach_entity_version'::regclass AND NOT (c.relname = ANY($1)) ORDER BY c.relname`,
    [except],
  );
  const triggers: { def: string }[] = await queryRunner.query(
    `SELECT pg_get_triggerdef(t.oid) AS def FROM pg_trigger t WHERE t.tgrelid = 'almanach_entity_version'::regclass AND NOT t.tgisinternal ORDER BY t.tgname`,
  );
  // A partitioned parent's index reads `ON ONLY …`: declared again on a table, it is meant for the whole of it.
  return { indexes: indexes.map((r) => r.def.replace(' ON ONLY ', ' ON ')), triggers: triggers.map((r) => r.def) };
}
