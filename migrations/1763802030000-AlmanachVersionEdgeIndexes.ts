import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes on a version's start and end, for the fleet report's cut days
 * (issue 9, `cutDayPiecesSql` in src/reports/usage/usage-report.repository.ts):
 * such a day is answered from its day cells and the versions that start or
 * end inside it, instead of every version live that day. The end index is
 * partial (an open version has none) and, with the partitions by end, reads
 * one month's partition; the start index is read in each partition that can
 * hold a version still running on the day.
 *
 * On an existing history this builds both indexes in the migration's
 * transaction (a few minutes at 20M versions, writes waiting meanwhile).
 */
export class AlmanachVersionEdgeIndexes1763802030000 implements MigrationInterface {
  name = 'AlmanachVersionEdgeIndexes1763802030000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "almanach_entity_version_start_idx" ON "almanach_entity_version" ("start")`);
    await queryRunner.query(`CREATE INDEX "almanach_entity_version_end_idx" ON "almanach_entity_version" ("end") WHERE "end" IS NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "almanach_entity_version_end_idx"`);
    await queryRunner.query(`DROP INDEX "almanach_entity_version_start_idx"`);
  }
}
