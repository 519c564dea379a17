import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Metrics and operations views (reports.md §9): the last accepted write per
 * source, site and collector (never deleted), the queue samples of the last
 * 7 days (one row per 15-second slot and queue), and the deployment totals of
 * the counters every process adds to (§9.1, "one scrape target").
 */
export class ReportsOps1763801000000 implements MigrationInterface {
  name = 'ReportsOps1763801000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "report_source_seen" (
        "source" text NOT NULL,
        "site" text NOT NULL,
        "collector" text NOT NULL,
        "last_event_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "report_source_seen_source_ck" CHECK ("source" IN ('almanach', 'amie', 'notifications')),
        CONSTRAINT "report_source_seen_pk" PRIMARY KEY ("source", "site", "collector")
      )`);
    await queryRunner.query(`
      CREATE TABLE "report_queue_sample" (
        "at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "queue" text NOT NULL,
        "waiting" integer NOT NULL,
        "active" integer NOT NULL,
        "delayed" integer NOT NULL,
        "failed" integer NOT NULL,
        CONSTRAINT "report_queue_sample_pk" PRIMARY KEY ("at", "queue")
      )`);
    await queryRunner.query(`
      CREATE TABLE "report_metric_counts" (
        "metric" text NOT NULL,
        "labels" jsonb NOT NULL,
        "value" double precision NOT NULL DEFAULT 0,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "report_metric_counts_pk" PRIMARY KEY ("metric", "labels")
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "report_metric_counts"`);
    await queryRunner.query(`DROP TABLE "report_queue_sample"`);
    await queryRunner.query(`DROP TABLE "report_source_seen"`);
  }
}
