import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Allocation budgets (reports.md §6): the budget of a project's budget period
 * (its row is also the balance row of 6.3, updated under a row lock with
 * every entry), the append-only ledger, holds, the per-project policy, the
 * event table (6.7) and the threshold armings (6.6).
 *
 * Later migrations of the budget features add what is theirs (the owed
 * recomputations and their triggers, the outbox and webhooks, per-source
 * unique keys of entries).
 */
export class Budgets1763801800000 implements MigrationInterface {
  name = 'Budgets1763801800000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);
    await queryRunner.query(
      `CREATE TABLE "report_budget_policy" (
        "project_id" text NOT NULL,
        "thresholds" integer array,
        "overdraft" numeric(30,6),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "report_budget_policy_pk" PRIMARY KEY ("project_id"),
        CONSTRAINT "report_budget_policy_overdraft_ck" CHECK ("overdraft" IS NULL OR "overdraft" >= 0)
      )`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_budget" (
        "id" bigserial NOT NULL,
        "project_id" text NOT NULL,
        "period_start" timestamptz NOT NULL,
        "period_end" timestamptz NOT NULL,
        "allocation_id" integer,
        "approval_id" integer,
        "granted" numeric(30,6) NOT NULL DEFAULT 0,
        "consumed" numeric(30,6) NOT NULL DEFAULT 0,
        "held" numeric(30,6) NOT NULL DEFAULT 0,
        "outside_period" numeric(30,6) NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "report_budget_pk" PRIMARY KEY ("id"),
        CONSTRAINT "report_budget_start_uq" UNIQUE ("project_id", "period_start"),
        CONSTRAINT "report_budget_period_ck" CHECK ("period_end" > "period_start"),
        CONSTRAINT "report_budget_no_overlap_ex" EXCLUDE USING gist ("project_id" WITH =, tstzrange("period_start", "period_end", '[)') WITH &&)
      )`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_budget_entry" (
        "id" bigserial NOT NULL,
        "budget_id" bigint NOT NULL,
        "project_id" text NOT NULL,
        "kind" text NOT NULL,
        "amount" numeric(30,6) NOT NULL,
        "at" timestamptz NOT NULL,
        "posted_at" timestamptz NOT NULL DEFAULT clock_timestamp(),
        "ref" text,
        "actor" text NOT NULL,
        "reason" text,
        "hold_id" text,
        "source" text,
        "reverses" bigint,
        CONSTRAINT "report_budget_entry_pk" PRIMARY KEY ("id"),
        CONSTRAINT "report_budget_entry_budget_fk" FOREIGN KEY ("budget_id") REFERENCES "report_budget"("id"),
        CONSTRAINT "report_budget_entry_reverses_fk" FOREIGN KEY ("reverses") REFERENCES "report_budget_entry"("id"),
        CONSTRAINT "report_budget_entry_kind_ck" CHECK ("kind" IN ('grant', 'grant_adjustment', 'amie_debit', 'amie_credit', 'amie_reversal', 'accrual', 'accrual_adjustment', 'hold', 'hold_release', 'hold_expire', 'hold_settle', 'refund', 'manual_grant', 'manual_credit', 'manual_debit'))
      )`,
    );
    await queryRunner.query(`CREATE INDEX "report_budget_entry_posted_idx" ON "report_budget_entry" ("budget_id", "posted_at", "id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "report_budget_entry_reverses_uq" ON "report_budget_entry" ("reverses") WHERE "reverses" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "report_budget_entry_source_idx" ON "report_budget_entry" ("source") WHERE "source" IS NOT NULL`);
    // Append-only (6.2): an entry is never changed or removed; corrections are new entries.
    await queryRunner.query(
      `CREATE FUNCTION "report_budget_entry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'report_budget_entry is append-only' USING ERRCODE = 'BU001';
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "report_budget_entry_append_only_tr" BEFORE UPDATE OR DELETE ON "report_budget_entry"
       FOR EACH ROW EXECUTE FUNCTION "report_budget_entry_append_only"()`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_budget_hold" (
        "id" text NOT NULL,
        "project_id" text NOT NULL,
        "budget_id" bigint NOT NULL,
        "amount" numeric(30,6) NOT NULL,
        "reference" text NOT NULL,
        "request_hash" text NOT NULL,
        "state" text NOT NULL DEFAULT 'held',
        "settled_amount" numeric(30,6),
        "refunded_amount" numeric(30,6) NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "resolved_at" timestamptz,
        "amie_site" text,
        "amie_resource" text,
        "amie_local_record_id" text,
        "description" text,
        CONSTRAINT "report_budget_hold_pk" PRIMARY KEY ("id"),
        CONSTRAINT "report_budget_hold_budget_fk" FOREIGN KEY ("budget_id") REFERENCES "report_budget"("id"),
        CONSTRAINT "report_budget_hold_reference_uq" UNIQUE ("project_id", "reference"),
        CONSTRAINT "report_budget_hold_amount_ck" CHECK ("amount" > 0),
        CONSTRAINT "report_budget_hold_state_ck" CHECK ("state" IN ('held', 'settled', 'released', 'expired'))
      )`,
    );
    await queryRunner.query(`CREATE INDEX "report_budget_hold_expiry_idx" ON "report_budget_hold" ("expires_at") WHERE "state" = 'held'`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "report_budget_hold_amie_uq" ON "report_budget_hold" ("amie_site", "amie_resource", "amie_local_record_id") WHERE "state" = 'held' AND "amie_site" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_event" (
        "id" bigserial NOT NULL,
        "type" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT clock_timestamp(),
        "project_id" text,
        "data" jsonb NOT NULL,
        CONSTRAINT "report_event_pk" PRIMARY KEY ("id")
      )`,
    );
    await queryRunner.query(`CREATE INDEX "report_event_project_idx" ON "report_event" ("project_id", "id")`);
    await queryRunner.query(`CREATE INDEX "report_event_created_idx" ON "report_event" ("created_at")`);
    await queryRunner.query(
      `CREATE TABLE "report_budget_arming" (
        "budget_id" bigint NOT NULL,
        "threshold" integer NOT NULL,
        "arming" integer NOT NULL,
        "crossed_at" timestamptz NOT NULL,
        "crossed_event_id" bigint NOT NULL,
        "rearmed_at" timestamptz,
        "rearmed_event_id" bigint,
        CONSTRAINT "report_budget_arming_pk" PRIMARY KEY ("budget_id", "threshold", "arming"),
        CONSTRAINT "report_budget_arming_budget_fk" FOREIGN KEY ("budget_id") REFERENCES "report_budget"("id"),
        CONSTRAINT "report_budget_arming_crossed_fk" FOREIGN KEY ("crossed_event_id") REFERENCES "report_event"("id"),
        CONSTRAINT "report_budget_arming_rearmed_fk" FOREIGN KEY ("rearmed_event_id") REFERENCES "report_event"("id")
      )`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "report_budget_arming"`);
    await queryRunner.query(`DROP TABLE "report_event"`);
    await queryRunner.query(`DROP TABLE "report_budget_hold"`);
    await queryRunner.query(`DROP TRIGGER "report_budget_entry_append_only_tr" ON "report_budget_entry"`);
    await queryRunner.query(`DROP FUNCTION "report_budget_entry_append_only"()`);
    await queryRunner.query(`DROP TABLE "report_budget_entry"`);
    await queryRunner.query(`DROP TABLE "report_budget"`);
    await queryRunner.query(`DROP TABLE "report_budget_policy"`);
  }
}
