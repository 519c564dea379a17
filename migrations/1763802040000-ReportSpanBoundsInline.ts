import { MigrationInterface, QueryRunner } from 'typeorm';

const BODY = `
    SELECT x.lo, greatest(x.lo, x.hi)
    FROM (
      SELECT least(report_local_day(a, tz), booked) AS lo,
             CASE WHEN b IS NULL OR b = 'infinity' THEN booked
                  ELSE least(report_local_day(b - interval '1 microsecond', tz), booked) END AS hi
    ) x`;

/**
 * `report_span_bounds` as a set-returning SQL function (`RETURNS TABLE`), the
 * same body and the same one row per call. PostgreSQL inlines a SQL function
 * called in FROM only when it returns a set; the record of OUT parameters
 * before was a Function Scan that parsed and planned its body (with
 * `report_local_day` and `report_day_start` inlined into it) on every
 * execution of the calling statement, since a plan cached by PL/pgSQL does
 * not keep a called SQL function's plan. Each Almanach write runs that
 * statement in its reports trigger: 0.39-0.45 ms of a write's database time,
 * now about 0.02 ms, as part of the trigger's cached plan (issue 14; pgbench
 * of the create/resize/delete transactions, 50 clients: 230-241 → 305-338
 * scripts/s, docs/almanach.md).
 *
 * The return type changes, so the function is dropped and created again in
 * this migration's transaction. Its callers (the dirty-key triggers and the
 * clock's first marking) call it by name in FROM, which PostgreSQL resolves
 * when they next plan, not as a dependency.
 */
export class ReportSpanBoundsInline1763802040000 implements MigrationInterface {
  name = 'ReportSpanBoundsInline1763802040000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION report_span_bounds(timestamptz, timestamptz, text, date)`);
    await queryRunner.query(`
      CREATE FUNCTION report_span_bounds(a timestamptz, b timestamptz, tz text, booked date) RETURNS TABLE (lo date, hi date)
      LANGUAGE sql STABLE PARALLEL SAFE AS $$${BODY}
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION report_span_bounds(timestamptz, timestamptz, text, date)`);
    await queryRunner.query(`
      CREATE FUNCTION report_span_bounds(a timestamptz, b timestamptz, tz text, booked date, OUT lo date, OUT hi date)
      LANGUAGE sql STABLE PARALLEL SAFE AS $$${BODY}
      $$`);
  }
}
