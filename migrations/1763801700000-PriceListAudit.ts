import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /reports/price-lists/{id}/audit` (reports.md 4.4) lists the entries of
 * one list and its items, oldest first, by keyset (at, id). The only index of
 * report_audit is per object, so without this one a page reads every entry;
 * flavor entries (no list) stay out of it.
 *
 * One call writes several entries in one transaction (a list and its items,
 * a correction's supersede and correct entries): with `now()` they all had
 * the transaction's start as `at`, and "oldest first" fell back to the
 * random ids. `clock_timestamp()` stamps each when it is written, so the
 * order within a call is the order of its writes.
 */
export class PriceListAudit1763801700000 implements MigrationInterface {
  name = 'PriceListAudit1763801700000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "report_audit_price_list_idx" ON "report_audit" ("price_list_id", "at", "id") WHERE "price_list_id" IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "report_audit" ALTER COLUMN "at" SET DEFAULT clock_timestamp()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "report_audit" ALTER COLUMN "at" SET DEFAULT now()`);
    await queryRunner.query(`DROP INDEX "report_audit_price_list_idx"`);
  }
}
