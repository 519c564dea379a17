import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every report counts the dirty keys of its window (`pending_cells`,
 * reports.md §3.1); a fleet report has no project to narrow by, and without
 * an index on the day that count scanned the whole dirty set: 7.3 s with
 * 11.6M keys pending after a bulk import, 1.7 s with this index
 * (docs/reports-benchmark.md).
 */
export class ReportsDirtyKeyDay1763800930000 implements MigrationInterface {
  name = 'ReportsDirtyKeyDay1763800930000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "report_dirty_key_day_idx" ON "report_dirty_key" ("day")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "report_dirty_key_day_idx"`);
  }
}
