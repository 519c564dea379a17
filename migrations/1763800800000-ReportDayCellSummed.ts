import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * report_usage_day_cell.summed: the quantity the site-day sums hold for the
 * cell. The site-day sums move by delta from it, so a day cell whose
 * `quantity` was edited by hand is repaired without shifting its sums.
 */
export class ReportDayCellSummed1763800800000 implements MigrationInterface {
  name = 'ReportDayCellSummed1763800800000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "report_usage_day_cell" ADD "summed" numeric`);
    await queryRunner.query(`UPDATE "report_usage_day_cell" SET "summed" = "quantity"`);
    await queryRunner.query(`ALTER TABLE "report_usage_day_cell" ALTER COLUMN "summed" SET NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "report_usage_day_cell" DROP COLUMN "summed"`);
  }
}
