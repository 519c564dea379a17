import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dirty keys are claimed in the order (first_dirtied_at, project_id, day,
 * site) instead of (…, site, day). A project's keys of one day at its
 * several sites (the cloud's and each AMIE site's) are then next to each
 * other, so one batch takes them together. In the old order they were a
 * site's whole run of days apart, and two drains running side by side took
 * the same (project, day) pairs at different sites: the second waited on
 * the first's advisory lock of each pair (§7.2) for the whole of its batch.
 * In the 20M-version build (four sites) six of twenty samples of the two
 * drains' statements were that wait. The index replaces the old one, of which it is a
 * reordering.
 */
export class ReportsDirtyKeyClaimOrder1763802020000 implements MigrationInterface {
  name = 'ReportsDirtyKeyClaimOrder1763802020000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "report_dirty_key_claim_idx" ON "report_dirty_key" ("first_dirtied_at", "project_id", "day", "site")`);
    await queryRunner.query(`DROP INDEX "report_dirty_key_order_idx"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "report_dirty_key_order_idx" ON "report_dirty_key" ("first_dirtied_at", "project_id", "site", "day")`);
    await queryRunner.query(`DROP INDEX "report_dirty_key_claim_idx"`);
  }
}
