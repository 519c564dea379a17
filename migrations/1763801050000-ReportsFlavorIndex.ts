import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /reports/flavors` lists the flavor strings of instance history that the
 * catalogue does not size, and `DELETE /admin/reports/flavors/{name}` refuses
 * a name history still stores (reports.md 3.5). Without an index both read
 * every version (20M at the §7.6 scale). A partial btree over the instance
 * versions' flavors answers the second with one probe per string, and the
 * first with one probe per distinct flavor (a loose index scan,
 * FlavorCatalogueRepository.unsized). Like the other index migrations it is
 * built inside the migration's transaction: writes to the version table wait
 * for the build (about a minute per 10M versions).
 */
export class ReportsFlavorIndex1763801050000 implements MigrationInterface {
  name = 'ReportsFlavorIndex1763801050000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "almanach_entity_version_instance_flavor_idx" ON "almanach_entity_version" ("flavor") WHERE "entity_type" = 'instance' AND "flavor" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "almanach_entity_version_instance_flavor_idx"`);
  }
}
