import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AMIE usage (amie-usage.md): accepted messages waiting for a worker
 * (amie_usage_batch, also the durable queue), the ledger of current record
 * versions (amie_usage_record) and failed records (amie_usage_failed_record).
 */
export class UsageRecords1763800200000 implements MigrationInterface {
  name = 'UsageRecords1763800200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Receipt numbers: one value per message; a record's receipt sequence is
    // value * 2^20 + its index in the message (amie-usage.md 5.3, "later").
    await queryRunner.query(`CREATE SEQUENCE "amie_usage_receipt_seq"`);
    await queryRunner.query(`
      CREATE TABLE "amie_usage_batch" (
        "id" bigint NOT NULL,
        "site" text NOT NULL,
        "usage_type" text NOT NULL,
        "record_count" integer NOT NULL,
        "resource_counts" jsonb NOT NULL,
        "records" jsonb NOT NULL,
        "state" text NOT NULL DEFAULT 'pending',
        "loaded_count" integer,
        "last_error" text,
        "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "processed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "amie_usage_batch_state_ck" CHECK ("state" IN ('pending', 'loaded', 'failed')),
        CONSTRAINT "amie_usage_batch_pk" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "amie_usage_batch_pending_idx" ON "amie_usage_batch" ("site", "received_at") WHERE "state" = 'pending'`);

    await queryRunner.query(`
      CREATE TABLE "amie_usage_record" (
        "site" text NOT NULL,
        "usage_type" text NOT NULL,
        "resource" text NOT NULL,
        "local_record_id" text NOT NULL,
        "seq" bigint NOT NULL,
        "batch_id" bigint NOT NULL,
        "local_project_id" text NOT NULL,
        "username" text NOT NULL,
        "charge" numeric NOT NULL,
        "adjustment_type" text,
        "usage_start" TIMESTAMP WITH TIME ZONE,
        "usage_end" TIMESTAMP WITH TIME ZONE,
        "record" jsonb NOT NULL,
        "processed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "amie_usage_record_pk" PRIMARY KEY ("site", "usage_type", "resource", "local_record_id")
      )`);
    await queryRunner.query(`CREATE INDEX "amie_usage_record_site_processed_idx" ON "amie_usage_record" ("site", "processed_at")`);
    await queryRunner.query(`CREATE INDEX "amie_usage_record_project_idx" ON "amie_usage_record" ("local_project_id")`);

    await queryRunner.query(`
      CREATE TABLE "amie_usage_failed_record" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "site" text NOT NULL,
        "usage_type" text NOT NULL,
        "resource" text,
        "local_record_id" text,
        "seq" bigint NOT NULL,
        "error" text NOT NULL,
        "record" jsonb NOT NULL,
        "state" text NOT NULL DEFAULT 'failed',
        "processed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "cleared_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "amie_usage_failed_record_state_ck" CHECK ("state" IN ('failed', 'cleared')),
        CONSTRAINT "amie_usage_failed_record_pk" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "amie_usage_failed_record_outstanding_idx" ON "amie_usage_failed_record" ("site", "id") WHERE "state" = 'failed'`,
    );
    await queryRunner.query(
      `CREATE INDEX "amie_usage_failed_record_identity_idx" ON "amie_usage_failed_record" ("site", "usage_type", "resource", "local_record_id") WHERE "state" = 'failed'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "amie_usage_failed_record"`);
    await queryRunner.query(`DROP TABLE "amie_usage_record"`);
    await queryRunner.query(`DROP TABLE "amie_usage_batch"`);
    await queryRunner.query(`DROP SEQUENCE "amie_usage_receipt_seq"`);
  }
}
