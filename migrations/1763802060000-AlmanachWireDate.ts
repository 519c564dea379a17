import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `almanach_wire_date(t)`: a timestamptz as almanach-v1.md 2.3 writes it,
 * `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00` (Python's str() of a UTC datetime:
 * the six digits of the fraction when it is not zero), null for null; the
 * same text as `formatAlmanachDate` in src/almanach/almanach-dates.ts. The
 * window listing writes its answer's JSON in PostgreSQL with it
 * (AlmanachRepository, `WIRE`; almanach-wire.e2e holds the two together).
 *
 * A SQL function of one expression, STABLE like `to_char`, so PostgreSQL
 * inlines it into the calling statement. Kept here rather than in the
 * statement's text, which it shortens and which then holds no `:MI`
 * (pgbench reads a colon before a name as a variable: bench/almanach runs
 * the route's statement through it).
 */
export class AlmanachWireDate1763802060000 implements MigrationInterface {
  name = 'AlmanachWireDate1763802060000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION almanach_wire_date(t timestamptz) RETURNS text
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT replace(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00:00'), '.000000+', '+')
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION almanach_wire_date(timestamptz)`);
  }
}
