import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rating and late data (reports.md §4, §5, §7.1): price lists and their
 * items (no two live items of a list with the same meter, key and subkey
 * overlap in time: an exclusion constraint over the items' local days, which
 * needs btree_gist, trusted since PostgreSQL 13 and loaded by the embedded
 * PGlite), corrections, rated cells (day, month and site-day, per price
 * list), periods and their frozen cells, adjustment lines, and backfill
 * windows. The functions and trigger changes of the late-data horizon come
 * in their own migration.
 *
 * Validity is stored twice: the instants the contract speaks in, and the
 * local days of the accounting zone (fixed at the first start) that rating
 * reads, so that the constraint and the per-day item lookup are plain date
 * comparisons.
 */
export class Rating1763801200000 implements MigrationInterface {
  name = 'Rating1763801200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);
    await queryRunner.query(
      `CREATE TABLE "report_price_list" ("id" text NOT NULL, "name" text NOT NULL, "currency" text NOT NULL, "project_ids" text array NOT NULL DEFAULT '{}', "description" text NOT NULL DEFAULT '', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" text NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "report_price_list_currency_ck" CHECK ("currency" ~ '^([A-Z]{3}|SU)$'), CONSTRAINT "report_price_list_name_uq" UNIQUE ("name"), CONSTRAINT "report_price_list_pk" PRIMARY KEY ("id"))`,
    );
    // At most one default list (no projects) per currency (§4.1).
    await queryRunner.query(`CREATE UNIQUE INDEX "report_price_list_default_uq" ON "report_price_list" ("currency") WHERE "project_ids" = '{}'`);
    // At most one list per (project, currency) (§4.1): one row per named project, kept with the list's project_ids.
    await queryRunner.query(
      `CREATE TABLE "report_price_list_project" ("project_id" text NOT NULL, "currency" text NOT NULL, "price_list_id" text NOT NULL, CONSTRAINT "report_price_list_project_pk" PRIMARY KEY ("project_id", "currency"), CONSTRAINT "report_price_list_project_list_fk" FOREIGN KEY ("price_list_id") REFERENCES "report_price_list"("id") ON DELETE CASCADE)`,
    );
    await queryRunner.query(`CREATE INDEX "report_price_list_project_list_idx" ON "report_price_list_project" ("price_list_id") `);
    await queryRunner.query(
      `CREATE TABLE "report_price_item" ("id" text NOT NULL, "price_list_id" text NOT NULL, "meter" text NOT NULL, "key" text NOT NULL, "subkey" text NOT NULL DEFAULT '', "unit_price" numeric NOT NULL, "price_unit" text NOT NULL, "valid_from" TIMESTAMP WITH TIME ZONE NOT NULL, "valid_to" TIMESTAMP WITH TIME ZONE, "valid_from_day" date NOT NULL, "valid_to_day" date, "superseded_by" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" text NOT NULL, "reason" text, CONSTRAINT "report_price_item_price_ck" CHECK ("unit_price" >= 0), CONSTRAINT "report_price_item_unit_ck" CHECK ("price_unit" IN ('hour', 'unit')), CONSTRAINT "report_price_item_valid_ck" CHECK ("valid_to" IS NULL OR "valid_to" > "valid_from"), CONSTRAINT "report_price_item_pk" PRIMARY KEY ("id"), CONSTRAINT "report_price_item_list_fk" FOREIGN KEY ("price_list_id") REFERENCES "report_price_list"("id") ON DELETE CASCADE)`,
    );
    await queryRunner.query(
      `ALTER TABLE "report_price_item" ADD CONSTRAINT "report_price_item_no_overlap_ex" EXCLUDE USING gist ("price_list_id" WITH =, "meter" WITH =, "key" WITH =, "subkey" WITH =, daterange("valid_from_day", "valid_to_day", '[)') WITH &&) WHERE ("superseded_by" IS NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "report_price_item_list_idx" ON "report_price_item" ("price_list_id", "meter", "key", "subkey", "valid_from") `);
    await queryRunner.query(
      `CREATE TABLE "report_price_correction" ("id" text NOT NULL, "price_list_id" text NOT NULL, "reason" text NOT NULL, "superseded" text array NOT NULL DEFAULT '{}', "items" text array NOT NULL DEFAULT '{}', "job_id" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" text NOT NULL, CONSTRAINT "report_price_correction_pk" PRIMARY KEY ("id"), CONSTRAINT "report_price_correction_list_fk" FOREIGN KEY ("price_list_id") REFERENCES "report_price_list"("id") ON DELETE CASCADE)`,
    );
    await queryRunner.query(`CREATE INDEX "report_price_correction_list_idx" ON "report_price_correction" ("price_list_id", "created_at") `);

    // Rated day cells (§4.5, §7.1): a usage day cell × one price list. Live rows have superseded_by NULL (one per key and list);
    // a re-rate that changes a live cell of an open period keeps the old row, superseded_by = its rating run.
    await queryRunner.query(
      `CREATE TABLE "report_rated_day_cell" ("id" bigserial NOT NULL, "project_id" text NOT NULL, "site" text NOT NULL, "day" date NOT NULL, "meter" text NOT NULL, "key" text NOT NULL, "subkey" text NOT NULL, "price_list_id" text NOT NULL, "currency" text NOT NULL, "item_id" text NOT NULL, "unit_price" numeric NOT NULL, "price_unit" text NOT NULL, "quantity" numeric NOT NULL, "cost" numeric NOT NULL, "rating_run" text NOT NULL, "rated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "superseded_by" text, "superseded_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "report_rated_day_cell_pk" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "report_rated_day_cell_live_uq" ON "report_rated_day_cell" ("project_id", "site", "day", "meter", "key", "subkey", "price_list_id") WHERE "superseded_by" IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "report_rated_day_cell_day_idx" ON "report_rated_day_cell" ("day", "project_id") WHERE "superseded_by" IS NULL`);
    await queryRunner.query(
      `CREATE TABLE "report_rated_month_cell" ("project_id" text NOT NULL, "site" text NOT NULL, "month" date NOT NULL, "meter" text NOT NULL, "key" text NOT NULL, "subkey" text NOT NULL, "price_list_id" text NOT NULL, "currency" text NOT NULL, "quantity" numeric NOT NULL, "cost" numeric NOT NULL, "cells" integer NOT NULL, CONSTRAINT "report_rated_month_cell_pk" PRIMARY KEY ("project_id", "site", "month", "meter", "key", "subkey", "price_list_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "report_rated_month_cell_month_idx" ON "report_rated_month_cell" ("month", "project_id") `);
    await queryRunner.query(
      `CREATE TABLE "report_rated_site_day_cell" ("site" text NOT NULL, "day" date NOT NULL, "meter" text NOT NULL, "key" text NOT NULL, "subkey" text NOT NULL, "price_list_id" text NOT NULL, "currency" text NOT NULL, "quantity" numeric NOT NULL, "cost" numeric NOT NULL, "cells" integer NOT NULL, CONSTRAINT "report_rated_site_day_cell_pk" PRIMARY KEY ("site", "day", "meter", "key", "subkey", "price_list_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "report_rated_site_day_cell_day_idx" ON "report_rated_site_day_cell" ("day") `);

    // Periods (§5.2): calendar months of the accounting zone; no row = open.
    await queryRunner.query(
      `CREATE TABLE "report_period" ("month" date NOT NULL, "state" text NOT NULL, "job_id" text, "closing_since" TIMESTAMP WITH TIME ZONE, "closed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "report_period_state_ck" CHECK ("state" IN ('open', 'closing', 'closed')), CONSTRAINT "report_period_pk" PRIMARY KEY ("month"))`,
    );
    // Frozen cells of a closed period: price_list_id '' (currency and cost NULL) is the usage cell, otherwise the rated cell of that list.
    await queryRunner.query(
      `CREATE TABLE "report_closed_cell" ("month" date NOT NULL, "project_id" text NOT NULL, "site" text NOT NULL, "day" date NOT NULL, "meter" text NOT NULL, "key" text NOT NULL, "subkey" text NOT NULL, "price_list_id" text NOT NULL DEFAULT '', "currency" text, "quantity" numeric NOT NULL, "cost" numeric, CONSTRAINT "report_closed_cell_pk" PRIMARY KEY ("project_id", "site", "day", "meter", "key", "subkey", "price_list_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "report_closed_cell_month_idx" ON "report_closed_cell" ("month", "project_id") `);
    // Adjustment lines (§5.3): appended, never changed. price_list_id '' is a quantity line (cost_delta NULL).
    await queryRunner.query(
      `CREATE TABLE "report_adjustment_line" ("id" bigserial NOT NULL, "applies_to_period" date NOT NULL, "day" date NOT NULL, "posted_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "posted_in_period" date NOT NULL, "project_id" text NOT NULL, "site" text NOT NULL, "meter" text NOT NULL, "key" text NOT NULL, "subkey" text NOT NULL, "price_list_id" text NOT NULL DEFAULT '', "currency" text, "quantity_delta" numeric NOT NULL, "cost_delta" numeric, "cause" text NOT NULL, "job_id" text, CONSTRAINT "report_adjustment_line_cause_ck" CHECK ("cause" IN ('late_data', 'rerate', 'correction', 'flavor_change', 'backfill')), CONSTRAINT "report_adjustment_line_pk" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "report_adjustment_line_posted_idx" ON "report_adjustment_line" ("posted_at") `);
    await queryRunner.query(`CREATE INDEX "report_adjustment_line_day_idx" ON "report_adjustment_line" ("day", "project_id") `);
    // Backfill windows (§5.4).
    await queryRunner.query(
      `CREATE TABLE "report_backfill" ("id" text NOT NULL, "start" TIMESTAMP WITH TIME ZONE NOT NULL, "end" TIMESTAMP WITH TIME ZONE NOT NULL, "start_day" date NOT NULL, "end_day" date NOT NULL, "reason" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" text NOT NULL, CONSTRAINT "report_backfill_window_ck" CHECK ("end" > "start"), CONSTRAINT "report_backfill_pk" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "report_backfill_expires_idx" ON "report_backfill" ("expires_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "report_backfill"`);
    await queryRunner.query(`DROP TABLE "report_adjustment_line"`);
    await queryRunner.query(`DROP TABLE "report_closed_cell"`);
    await queryRunner.query(`DROP TABLE "report_period"`);
    await queryRunner.query(`DROP TABLE "report_rated_site_day_cell"`);
    await queryRunner.query(`DROP TABLE "report_rated_month_cell"`);
    await queryRunner.query(`DROP TABLE "report_rated_day_cell"`);
    await queryRunner.query(`DROP TABLE "report_price_correction"`);
    await queryRunner.query(`DROP TABLE "report_price_item"`);
    await queryRunner.query(`DROP TABLE "report_price_list_project"`);
    await queryRunner.query(`DROP TABLE "report_price_list"`);
  }
}
