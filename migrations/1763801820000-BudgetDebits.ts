import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What debits and credits a budget from usage (reports.md 6.2, I6): AMIE
 * record versions and booked days' accruals.
 *
 * - `report_budget_entry_amie_source_uq`: one AMIE debit, credit or hold
 *   settlement per record version and budget (`source` =
 *   `amie:<entity_id>@<receipt seq>`), so a retried load never posts twice.
 * - `report_budget_entry_ref_idx`: the writers find the entries of a record
 *   (`amie:<entity_id>`) or a day (`day:<YYYY-MM-DD>`) by `ref`.
 * - `report_budget_outside`: what each record or day outside every budget
 *   period adds to the earlier budget's `outside_period` (6.2), so a
 *   resubmission or a re-rate moves it exactly; `outside_period` is the Σ of
 *   a budget's rows (checked by I6).
 */
export class BudgetDebits1763801820000 implements MigrationInterface {
  name = 'BudgetDebits1763801820000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE UNIQUE INDEX "report_budget_entry_amie_source_uq" ON "report_budget_entry" ("budget_id", "source") WHERE "kind" IN ('amie_debit', 'amie_credit', 'hold_settle') AND "source" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "report_budget_entry_ref_idx" ON "report_budget_entry" ("ref", "project_id") WHERE "ref" IS NOT NULL`);
    await queryRunner.query(
      `CREATE TABLE "report_budget_outside" (
        "project_id" text NOT NULL,
        "ref" text NOT NULL,
        "budget_id" bigint NOT NULL,
        "amount" numeric(30,6) NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "report_budget_outside_pk" PRIMARY KEY ("project_id", "ref"),
        CONSTRAINT "report_budget_outside_budget_fk" FOREIGN KEY ("budget_id") REFERENCES "report_budget"("id")
      )`,
    );
    await queryRunner.query(`CREATE INDEX "report_budget_outside_budget_idx" ON "report_budget_outside" ("budget_id")`);
    await queryRunner.query(`CREATE INDEX "report_budget_outside_ref_idx" ON "report_budget_outside" ("ref")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "report_budget_outside"`);
    await queryRunner.query(`DROP INDEX "report_budget_entry_ref_idx"`);
    await queryRunner.query(`DROP INDEX "report_budget_entry_amie_source_uq"`);
  }
}
