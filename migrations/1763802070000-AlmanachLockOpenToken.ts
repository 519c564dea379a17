import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `almanach_lock_open(entity, after, token_hash)`: `almanach_lock_open(entity,
 * after)` for an Almanach write over HTTP whose token the API took from
 * memory (AccessRule `checkedByStatement`, docs/almanach.md "Tokens
 * confirmed by the statement"): the lock and the read, then whether a token
 * of that hash is still stored (in a snapshot taken after the lock was
 * granted), else SQLSTATE `UL401` (AlmanachRepository answers the 401 of an
 * unknown token, and the transaction is rolled back before anything is
 * written). In PL/pgSQL so the check is a plan
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
        RETURN QUERY SELECT * FROM almanach_lock_open(p_entity, p_after);
        -- After the lock (RETURN QUERY only collects the rows): in a snapshot taken once it was granted, so a
        -- revocation committed while this write waited for the entity is seen, and the write is refused.
        IF NOT EXISTS (SELECT 1 FROM api_token WHERE token_hash = p_token_hash) THEN
          RAISE EXCEPTION 'the X-Auth-Token is not stored (revoked)' USING ERRCODE = 'UL401';
        END IF;
      END
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION almanach_lock_open(text, timestamptz, text)`);
  }
}
