import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The accepted records of an AMIE message are stored as the JSON text the
 * API wrote (`amie_usage_batch.records` text, was jsonb), compressed with
 * lz4 where the server has it (pglz otherwise), and parsed once, by the
 * worker's loading statement (`records::jsonb`). A jsonb column made every
 * submission parse its batch inside PostgreSQL before the 200 (about 7 ms of
 * the database's CPU for 500 compute records, more than the API's own
 * work), for a value only the loader reads. Existing rows keep their content
 * (jsonb's text form).
 *
 * `body` (new): the message's JSON text as received, kept when PostgreSQL
 * reads it as the API did (no `\u` escape, numbers within numeric's range);
 * the records then omit their copy of the record (`d`), read by the loader
 * from `body`'s `Records[n]`: the API sends the text it already holds instead
 * of serialising every record a second time.
 */
export class UsageBatchText1763801930000 implements MigrationInterface {
  name = 'UsageBatchText1763801930000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "amie_usage_batch" ALTER COLUMN "records" TYPE text USING "records"::text`);
    await queryRunner.query(`ALTER TABLE "amie_usage_batch" ADD "body" text`);
    // A server built without lz4 answers feature_not_supported: it keeps the default (pglz).
    await queryRunner.query(`
      DO $$ BEGIN
        ALTER TABLE "amie_usage_batch" ALTER COLUMN "records" SET COMPRESSION lz4, ALTER COLUMN "body" SET COMPRESSION lz4;
      EXCEPTION WHEN feature_not_supported THEN NULL;
      END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Records stored without their copy get it back from the message text.
    await queryRunner.query(`
      UPDATE "amie_usage_batch" b SET "records" = (
        SELECT coalesce(jsonb_agg(CASE WHEN x.e ? 'd' THEN x.e ELSE x.e || jsonb_build_object('d', (b."body"::jsonb)->'Records'->((x.e->>'n')::int)) END ORDER BY x.o), '[]')
        FROM jsonb_array_elements(b."records"::jsonb) WITH ORDINALITY AS x(e, o))::text
      WHERE b."body" IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "amie_usage_batch" DROP COLUMN "body"`);
    await queryRunner.query(`ALTER TABLE "amie_usage_batch" ALTER COLUMN "records" SET COMPRESSION default`);
    await queryRunner.query(`ALTER TABLE "amie_usage_batch" ALTER COLUMN "records" TYPE jsonb USING "records"::jsonb`);
  }
}
