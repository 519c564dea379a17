import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The month cells of one month in the report's project order (byte order,
 * `COLLATE "C"`, reports.md §3.1's keyset). A fleet page grouped by project
 * reads its first projects from it (UsageReportRepository.projectSlice):
 * the first lines of a one-bucket page belong to the first projects at or
 * after the cursor's, so the page reads those projects' cells instead of the
 * whole fleet's (a month of 10,000 projects holds about 500,000 cells). The
 * index on (month, project_id) beside it keeps serving equality on
 * project_id, which this one, in another collation than the column's,
 * cannot.
 */
export class ReportMonthCellProjectOrder1763801990000 implements MigrationInterface {
  name = 'ReportMonthCellProjectOrder1763801990000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "report_usage_month_cell_month_project_c_idx" ON "report_usage_month_cell" ("month", "project_id" COLLATE "C")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "report_usage_month_cell_month_project_c_idx"`);
  }
}
