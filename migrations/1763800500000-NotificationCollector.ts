import { MigrationInterface, QueryRunner } from 'typeorm';

/** OpenStack notification collector (collector.md 5.3, 6): message-id receipts and outcome counts. */
export class NotificationCollector1763800500000 implements MigrationInterface {
  name = 'NotificationCollector1763800500000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "notification_receipts" (
        "message_id" text NOT NULL,
        "event_type" text NOT NULL,
        "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "notification_receipts_pk" PRIMARY KEY ("message_id")
      )`);
    await queryRunner.query(`CREATE INDEX "notification_receipts_received_at_idx" ON "notification_receipts" ("received_at")`);
    await queryRunner.query(`
      CREATE TABLE "notification_counts" (
        "event_type" text NOT NULL,
        "outcome" text NOT NULL,
        "count" bigint NOT NULL DEFAULT 0,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "notification_counts_pk" PRIMARY KEY ("event_type", "outcome")
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "notification_counts"`);
    await queryRunner.query(`DROP INDEX "public"."notification_receipts_received_at_idx"`);
    await queryRunner.query(`DROP TABLE "notification_receipts"`);
  }
}
