import { MigrationInterface, QueryRunner } from 'typeorm';

const TRIGGER_FUNCTIONS = [
  'report_dirty_almanach_insert',
  'report_dirty_almanach_update',
  'report_dirty_almanach_delete',
  'report_dirty_amie_insert',
  'report_dirty_amie_update',
  'report_dirty_amie_delete',
];

/**
 * The dirty-key triggers (reports.md §7.2) run in the transaction of every
 * Almanach and AMIE write. The planner cannot know the size of a transition
 * table or of report_span_days, so it costs their statement in the hundreds
 * of thousands and PostgreSQL's JIT compiles it on every write: closing one
 * version spent 566–1,308 ms in the update trigger at the §7.6 scale, and
 * with 128 writes in flight on two cores the API took 8–15 writes/s. With
 * jit off in these functions the same trigger takes 7.8 ms.
 */
export class ReportsTriggersWithoutJit1763800920000 implements MigrationInterface {
  name = 'ReportsTriggersWithoutJit1763800920000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const fn of TRIGGER_FUNCTIONS) await queryRunner.query(`ALTER FUNCTION ${fn}() SET jit = off`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const fn of TRIGGER_FUNCTIONS) await queryRunner.query(`ALTER FUNCTION ${fn}() RESET jit`);
  }
}
