import { MigrationInterface, QueryRunner } from 'typeorm';

/** Astakos-style quotas and commissions (quotas.md): resources, holdings, pending commissions, provision log. */
export class Quotas1763800100000 implements MigrationInterface {
  name = 'Quotas1763800100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "quota_resource" (
        "name" text NOT NULL,
        "service" text NOT NULL,
        "description" text NOT NULL DEFAULT '',
        "unit" text,
        "ui_visible" boolean NOT NULL DEFAULT true,
        "api_visible" boolean NOT NULL DEFAULT true,
        "allow_in_projects" boolean NOT NULL DEFAULT true,
        CONSTRAINT "quota_resource_pk" PRIMARY KEY ("name")
      )`);

    await queryRunner.query(`
      CREATE TABLE "quota_holding" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "holder" text NOT NULL,
        "source" text,
        "resource" text NOT NULL,
        "limit" bigint NOT NULL,
        "usage_min" bigint NOT NULL DEFAULT 0,
        "usage_max" bigint NOT NULL DEFAULT 0,
        "origin" text,
        CONSTRAINT "quota_holding_limit_ck" CHECK ("limit" >= 0),
        CONSTRAINT "quota_holding_usage_ck" CHECK ("usage_min" <= "usage_max"),
        CONSTRAINT "quota_holding_pk" PRIMARY KEY ("id"),
        CONSTRAINT "quota_holding_resource_fk" FOREIGN KEY ("resource") REFERENCES "quota_resource" ("name") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    // A project's own holding has a null source; two of them for one project
    // and resource must still collide (quotas.md 5.1).
    await queryRunner.query(
      `CREATE UNIQUE INDEX "quota_holding_key_uq" ON "quota_holding" ("holder", "source", "resource") NULLS NOT DISTINCT`,
    );
    await queryRunner.query(`CREATE INDEX "quota_holding_source_idx" ON "quota_holding" ("source")`);

    // One sequence for every credential's serials (5.7): strictly increasing, gaps allowed.
    await queryRunner.query(`CREATE SEQUENCE "quota_commission_serial_seq" AS bigint START WITH 1`);
    await queryRunner.query(`
      CREATE TABLE "quota_commission" (
        "serial" bigint NOT NULL,
        "client_key" text NOT NULL,
        "name" text NOT NULL DEFAULT '',
        "issue_time" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "quota_commission_pk" PRIMARY KEY ("serial")
      )`);
    await queryRunner.query(`CREATE INDEX "quota_commission_client_serial_idx" ON "quota_commission" ("client_key", "serial")`);

    await queryRunner.query(`
      CREATE TABLE "quota_provision" (
        "serial" bigint NOT NULL,
        "position" integer NOT NULL,
        "holding_id" bigint NOT NULL,
        "quantity" bigint NOT NULL,
        CONSTRAINT "quota_provision_pk" PRIMARY KEY ("serial", "position"),
        CONSTRAINT "quota_provision_commission_fk" FOREIGN KEY ("serial") REFERENCES "quota_commission" ("serial") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "quota_provision_holding_fk" FOREIGN KEY ("holding_id") REFERENCES "quota_holding" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await queryRunner.query(`CREATE INDEX "quota_provision_holding_idx" ON "quota_provision" ("holding_id")`);

    await queryRunner.query(`
      CREATE TABLE "quota_provision_log" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "serial" bigint NOT NULL,
        "client_key" text NOT NULL,
        "name" text NOT NULL,
        "holder" text NOT NULL,
        "source" text,
        "resource" text NOT NULL,
        "quantity" bigint NOT NULL,
        "limit" bigint NOT NULL,
        "usage_min" bigint NOT NULL,
        "usage_max" bigint NOT NULL,
        "action" text NOT NULL,
        "issue_time" TIMESTAMP WITH TIME ZONE NOT NULL,
        "resolved_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "quota_provision_log_action_ck" CHECK ("action" IN ('ACCEPT', 'REJECT')),
        CONSTRAINT "quota_provision_log_pk" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "quota_provision_log_resolved_idx" ON "quota_provision_log" ("resolved_at")`);
    await queryRunner.query(`CREATE INDEX "quota_provision_log_holder_idx" ON "quota_provision_log" ("holder", "resource")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "quota_provision_log"`);
    await queryRunner.query(`DROP TABLE "quota_provision"`);
    await queryRunner.query(`DROP TABLE "quota_commission"`);
    await queryRunner.query(`DROP SEQUENCE "quota_commission_serial_seq"`);
    await queryRunner.query(`DROP TABLE "quota_holding"`);
    await queryRunner.query(`DROP TABLE "quota_resource"`);
  }
}
