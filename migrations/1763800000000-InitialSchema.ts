import { MigrationInterface, QueryRunner } from 'typeorm';

/** Credentials (auth.md) and Almanach v1 entities and volume types. */
export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "api_token" (
        "id" uuid NOT NULL,
        "name" text NOT NULL,
        "role" text NOT NULL,
        "user_id" text,
        "project_ids" text array NOT NULL DEFAULT '{}',
        "token_hash" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "api_token_pk" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_token_token_hash_uq" ON "api_token" ("token_hash")`);

    await queryRunner.query(`
      CREATE TABLE "amie_site" (
        "name" text NOT NULL,
        "api_key_hash" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "amie_site_pk" PRIMARY KEY ("name")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "amie_site_api_key_hash_uq" ON "amie_site" ("api_key_hash")`);

    await queryRunner.query(`
      CREATE TABLE "almanach_entity_version" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "entity_id" text NOT NULL,
        "entity_type" text NOT NULL,
        "project_id" text NOT NULL,
        "start" TIMESTAMP WITH TIME ZONE NOT NULL,
        "end" TIMESTAMP WITH TIME ZONE,
        "last_event" TIMESTAMP WITH TIME ZONE NOT NULL,
        "processed" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "name" text,
        "flavor" text,
        "image_meta" jsonb,
        "metadata" jsonb,
        "volume_type" text,
        "size" integer,
        "attached_to" text array,
        CONSTRAINT "almanach_entity_version_type_ck" CHECK ("entity_type" IN ('instance', 'volume')),
        CONSTRAINT "almanach_entity_version_period_ck" CHECK ("end" IS NULL OR "end" >= "start"),
        CONSTRAINT "almanach_entity_version_pk" PRIMARY KEY ("id")
      )`);
    // At most one open version per entity (almanach-v1.md 3.1).
    await queryRunner.query(
      `CREATE UNIQUE INDEX "almanach_entity_version_one_open_uq" ON "almanach_entity_version" ("entity_id") WHERE "end" IS NULL`,
    );
    // Window listings of one project (5.6) range over start inside the project.
    await queryRunner.query(
      `CREATE INDEX "almanach_entity_version_project_start_idx" ON "almanach_entity_version" ("project_id", "start", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "almanach_entity_version_entity_start_idx" ON "almanach_entity_version" ("entity_id", "start", "id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "almanach_volume_type" (
        "volume_type_id" text NOT NULL,
        "volume_type_name" text NOT NULL,
        CONSTRAINT "almanach_volume_type_pk" PRIMARY KEY ("volume_type_id")
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "almanach_volume_type"`);
    await queryRunner.query(`DROP TABLE "almanach_entity_version"`);
    await queryRunner.query(`DROP TABLE "amie_site"`);
    await queryRunner.query(`DROP TABLE "api_token"`);
  }
}
