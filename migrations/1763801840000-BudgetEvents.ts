import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events and their delivery (reports.md 6.6, 6.7): webhooks, the webhook
 * outbox (one delivery row per event and matching webhook, written in the
 * emitting transaction), the queue channel's cursor, and the one way an
 * event is written, `report_emit_event`.
 *
 * `report_emit_event` takes a transaction-level advisory lock before it
 * draws the event id, so event ids commit in the order they are drawn: a
 * reader that has seen event n has seen every event below n that will ever
 * exist, and the feed (`id > after`) and the queue relay's cursor never skip
 * one. The lock is held to the emitting transaction's end; emissions are
 * rare (crossings, re-armings, closes, finished jobs).
 *
 * `period.closed` and `job.finished` are emitted by triggers on
 * `report_period` and `report_job`, in the transaction that sets the final
 * state, whichever code path sets it (snapshot, last chunk, cancel, failure,
 * sweeper), as the reports migration's triggers keep Almanach and AMIE
 * unaware of reports.
 */
export class BudgetEvents1763801840000 implements MigrationInterface {
  name = 'BudgetEvents1763801840000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "report_webhook" (
        "id" text NOT NULL,
        "url" text NOT NULL,
        "types" text array,
        "project_ids" text array,
        "description" text,
        "secret" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT clock_timestamp(),
        "last_success_at" timestamptz,
        "last_error" text,
        CONSTRAINT "report_webhook_pk" PRIMARY KEY ("id")
      )`,
    );
    await queryRunner.query(
      `CREATE TABLE "report_webhook_delivery" (
        "webhook_id" text NOT NULL,
        "event_id" bigint NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT clock_timestamp(),
        "delivered_at" timestamptz,
        "given_up_at" timestamptz,
        "last_error" text,
        CONSTRAINT "report_webhook_delivery_pk" PRIMARY KEY ("webhook_id", "event_id"),
        CONSTRAINT "report_webhook_delivery_webhook_fk" FOREIGN KEY ("webhook_id") REFERENCES "report_webhook"("id") ON DELETE CASCADE,
        CONSTRAINT "report_webhook_delivery_event_fk" FOREIGN KEY ("event_id") REFERENCES "report_event"("id") ON DELETE CASCADE
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "report_webhook_delivery_due_idx" ON "report_webhook_delivery" ("next_attempt_at") WHERE "delivered_at" IS NULL AND "given_up_at" IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX "report_webhook_delivery_event_idx" ON "report_webhook_delivery" ("event_id")`);
    await queryRunner.query(
      `CREATE TABLE "report_event_relay" (
        "channel" text NOT NULL,
        "last_event_id" bigint NOT NULL DEFAULT 0,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "report_event_relay_pk" PRIMARY KEY ("channel")
      )`,
    );
    await queryRunner.query(
      `CREATE FUNCTION "report_emit_event"(p_type text, p_project_id text, p_data jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
       DECLARE
         v_id bigint;
       BEGIN
         -- Ids commit in the order they are drawn (see the migration's comment).
         PERFORM pg_advisory_xact_lock(hashtextextended('report_event order', 0));
         INSERT INTO "report_event" ("type", "project_id", "data") VALUES (p_type, p_project_id, p_data) RETURNING "id" INTO v_id;
         INSERT INTO "report_webhook_delivery" ("webhook_id", "event_id")
         SELECT w."id", v_id FROM "report_webhook" w
         WHERE (w."types" IS NULL OR p_type = ANY (w."types"))
           AND (w."project_ids" IS NULL OR p_project_id = ANY (w."project_ids"));
         RETURN v_id;
       END $$`,
    );
    await queryRunner.query(
      `CREATE FUNCTION "report_job_finished_event"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW."state" IN ('succeeded', 'failed', 'cancelled')
            AND (TG_OP = 'INSERT' OR OLD."state" NOT IN ('succeeded', 'failed', 'cancelled')) THEN
           PERFORM "report_emit_event"('job.finished', NULL, jsonb_build_object('job_id', NEW."id", 'kind', NEW."kind", 'state', NEW."state"));
         END IF;
         RETURN NULL;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "report_job_finished_event_tr" AFTER INSERT OR UPDATE OF "state" ON "report_job"
       FOR EACH ROW EXECUTE FUNCTION "report_job_finished_event"()`,
    );
    await queryRunner.query(
      `CREATE FUNCTION "report_period_closed_event"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW."state" = 'closed' AND (TG_OP = 'INSERT' OR OLD."state" <> 'closed') THEN
           PERFORM "report_emit_event"('period.closed', NULL, jsonb_build_object(
             'period', to_char(NEW."month", 'YYYY-MM'),
             'job_id', NEW."job_id",
             'closed_by', (SELECT j."created_by" FROM "report_job" j WHERE j."id" = NEW."job_id")));
         END IF;
         RETURN NULL;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "report_period_closed_event_tr" AFTER INSERT OR UPDATE OF "state" ON "report_period"
       FOR EACH ROW EXECUTE FUNCTION "report_period_closed_event"()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "report_period_closed_event_tr" ON "report_period"`);
    await queryRunner.query(`DROP FUNCTION "report_period_closed_event"()`);
    await queryRunner.query(`DROP TRIGGER "report_job_finished_event_tr" ON "report_job"`);
    await queryRunner.query(`DROP FUNCTION "report_job_finished_event"()`);
    await queryRunner.query(`DROP FUNCTION "report_emit_event"(text, text, jsonb)`);
    await queryRunner.query(`DROP TABLE "report_event_relay"`);
    await queryRunner.query(`DROP TABLE "report_webhook_delivery"`);
    await queryRunner.query(`DROP TABLE "report_webhook"`);
  }
}
