import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `almanach_lock_open(entity, after)`: an Almanach write's first step in one
 * round trip instead of two or three (issue 14). It takes the entity's
 * transaction lock (the key of `AlmanachRepository.lockEntity`), then reads
 * the entity's open version; for a create (`after` given) with no open
 * version, its version of latest end when that end is after `after`
 * (almanach-v1.md 5.14), else nothing.
 *
 * PL/pgSQL, VOLATILE: each statement takes its snapshot when it starts, so
 * the reads see every write committed before the lock was granted, as the
 * separate statements did (one SQL statement taking the lock and reading
 * would read in the snapshot taken before it waited). The open-version read
 * prunes to the open partition with a constant, so the plan PL/pgSQL keeps
 * is the one partition's; the later-end read has a parameter on the
 * partition key, so it is planned on each call with its value (EXECUTE …
 * USING) and reads only the partitions of ends after `after`, never a kept
 * generic plan over every month.
 */
export class AlmanachLockOpen1763802050000 implements MigrationInterface {
  name = 'AlmanachLockOpen1763802050000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION ${lockOpen()}`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION almanach_lock_open(text, timestamptz)`);
  }
}

/**
 * `almanach_lock_open(entity, after)` from its name on (after `CREATE` or `CREATE OR REPLACE`), with
 * `beforeLaterEnd` (PL/pgSQL statements) run between the open-version read and the later-end read:
 * 1763802080000 puts its end-bound check there.
 */
export function lockOpen(beforeLaterEnd = ''): string {
  return `almanach_lock_open(p_entity text, p_after timestamptz) RETURNS SETOF almanach_entity_version
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_entity, 0));
        RETURN QUERY SELECT * FROM almanach_entity_version
          WHERE entity_id = p_entity AND coalesce("end", 'infinity'::timestamptz) = 'infinity'::timestamptz;
        IF FOUND OR p_after IS NULL THEN
          RETURN;
        END IF;${beforeLaterEnd}
        RETURN QUERY EXECUTE 'SELECT * FROM almanach_entity_version
          WHERE entity_id = $1 AND coalesce("end", ''infinity''::timestamptz) > $2
          ORDER BY coalesce("end", ''infinity''::timestamptz) DESC LIMIT 1' USING p_entity, p_after;
      END
      $$`;
}
