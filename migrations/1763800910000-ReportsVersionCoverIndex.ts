import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rollup worker recomputes a (project, day) from the versions of the
 * project that started before the day's end (reports.md §7.2). Through the
 * btree on (project_id, start, id) each of those versions cost a heap visit
 * — about 1,700 random heap reads to keep 29 rows per key at the §7.6 scale
 * (20M versions, 10,000 projects). The same btree carrying the columns the
 * recomputation reads lets it run as an index-only scan: one drain batch of
 * 500 keys 2.27 s → 0.27 s, the drain 328 → 899 keys/s with two drainers.
 * It replaces the plain btree (same key, so window listings use it as before).
 */
export class ReportsVersionCoverIndex1763800910000 implements MigrationInterface {
  name = 'ReportsVersionCoverIndex1763800910000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "almanach_entity_version_project_cover_idx" ON "almanach_entity_version" ("project_id", "start", "id") INCLUDE ("end", "entity_type", "flavor", "volume_type", "size", "entity_id")`,
    );
    await queryRunner.query(`DROP INDEX "almanach_entity_version_project_start_idx"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "almanach_entity_version_project_start_idx" ON "almanach_entity_version" ("project_id", "start", "id")`);
    await queryRunner.query(`DROP INDEX "almanach_entity_version_project_cover_idx"`);
  }
}
