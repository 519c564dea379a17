import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `almanach_lock_open(entity, after, token_hash)`: `almanach_lock_open(entity,
 * after)` for an Almanach write over HTTP whose token the API took from
 * memory (AccessRule `checkedByStatement`, docs/almanach.md "Tokens
 * confirmed by the statement"): first whether a token of that hash is still
 * stored, else SQLSTATE `UL401` (AlmanachRepository answers the 401 of an
 * unknown token, and the transaction is rolled back before anything is
 * written), then the lock and the read. In PL/pgSQL so the check is a plan
 * the backend keeps, where a statement sent as text is planned on each call
 * (measured: wrapping the check around the 2-argument call in the write's
 * first statement cost PostgreSQL as much as the round trip it saved).
 */
export class AlmanachLockOpenToken1763802070000 implements MigrationInterface {
  name = 'AlmanachLockOpenToken1763802070000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION almanach_lock_open(p_entity text, p_after timestamptz, p_token_hash text) RETURNS SETOF almanach_entity_version
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM api_token WHERE token_hash = p_token_hash) THEN
          RAISE EXCEPTION 'the X-Auth-Token is not stored (revoked)' USING ERRCODE = 'UL401';
        END IF;
        RETURN QUERY SELECT * FROM almanach_lock_open(p_entity, p_after);
      END
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION almanach_lock_open(text, timestamptz, text)`);
  }
}
