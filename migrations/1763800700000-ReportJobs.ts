import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Report jobs (reports.md 4.7): the state of re-rates, corrections,
 * consistency checks and period closes lives here; the queue only schedules
 * them (`reports.run-job`). `cursor` and `result` are rewritten in the
 * transaction of each finished chunk, so a job resumes exactly where its last
 * chunk ended.
 */
export class ReportJobs1763800700000 implements MigrationInterface {
  name = 'ReportJobs1763800700000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "report_job" (
        "id" text NOT NULL,
        "kind" text NOT NULL,
        "state" text NOT NULL DEFAULT 'queued',
        "reason" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "created_by" text NOT NULL,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "scope" jsonb NOT NULL,
        "progress_total" bigint,
        "progress_done" bigint NOT NULL DEFAULT 0,
        "cursor" jsonb,
        "result" jsonb,
        "error" text,
        "cancel_requested" boolean NOT NULL DEFAULT false,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "report_job_pk" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "report_job_created_idx" ON "report_job" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "report_job_state_idx" ON "report_job" ("state", "updated_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."report_job_state_idx"`);
    await queryRunner.query(`DROP INDEX "public"."report_job_created_idx"`);
    await queryRunner.query(`DROP TABLE "report_job"`);
  }
}
