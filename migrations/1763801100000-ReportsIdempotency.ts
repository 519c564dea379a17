import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `Idempotency-Key` on the reports' POST routes (reports.md 1.8): one row per
 * (token name, key), inserted `pending` in its own statement before the
 * handler runs, so a concurrent repeat in any process finds it and waits;
 * the answer is stored when the first call answers (2xx and 4xx; a 5xx
 * deletes the row). Rows expire after 24 hours and are pruned by the API
 * (IdempotencyPruner) and taken over on insert.
 */
export class ReportsIdempotency1763801100000 implements MigrationInterface {
  name = 'ReportsIdempotency1763801100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "report_idempotency_key" ("token_name" text NOT NULL, "key" text NOT NULL, "method" text NOT NULL, "path" text NOT NULL, "body_hash" text NOT NULL, "state" text NOT NULL, "claim" uuid NOT NULL, "status" integer, "answer" text, "content_type" text, "location" text, "claimed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "report_idempotency_key_state_ck" CHECK ("state" IN ('pending', 'done')), CONSTRAINT "report_idempotency_key_pk" PRIMARY KEY ("token_name", "key"))`,
    );
    await queryRunner.query(`CREATE INDEX "report_idempotency_key_expires_idx" ON "report_idempotency_key" ("expires_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "report_idempotency_key_expires_idx"`);
    await queryRunner.query(`DROP TABLE "report_idempotency_key"`);
  }
}
