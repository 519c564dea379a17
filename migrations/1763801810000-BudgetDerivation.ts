import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Budget derivation (reports.md 6.1): the projects whose approval in force
 * may have changed, recorded by statement-level triggers on the allocation
 * tables in the writing transaction (the allocations module stays unaware),
 * and recomputed by the budget loop (src/reports/budgets/derivation).
 *
 * Each mark gives the project a new `seq`: the loop clears a mark only when
 * its seq is the one it read before reading the allocations, so a change
 * committed meanwhile is recomputed again.
 */
const MARK = `
  CREATE FUNCTION report_budget_mark(p text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_budget_recompute (project_id, seq)
    SELECT x.project_id, nextval('report_budget_recompute_seq')
    FROM (SELECT DISTINCT u AS project_id FROM unnest(p) AS u WHERE u IS NOT NULL AND u <> '') x
    ORDER BY x.project_id
    ON CONFLICT (project_id) DO UPDATE SET seq = EXCLUDED.seq, requested_at = now()
  $$`;

/** A changed allocation record: its project, and that of its current record (a history record's approval is its current record's). */
const allocationProjects = (rows: string) => `
  SELECT r.project_id FROM ${rows} r
  UNION ALL SELECT c.project_id FROM ${rows} r JOIN allocation c ON c.id = r.parent_request`;

/** A changed quota row: the projects of the allocation record owning it and of that record's current record. */
const quotaProjects = (rows: string) => `
  SELECT a.project_id FROM ${rows} q JOIN allocation a ON a.id = q.allocation
  UNION ALL SELECT c.project_id FROM ${rows} q JOIN allocation a ON a.id = q.allocation JOIN allocation c ON c.id = a.parent_request`;

/** A changed bundle or resource: every project with an allocation. */
const EVERY_PROJECT = `SELECT DISTINCT project_id FROM allocation WHERE project_id IS NOT NULL`;

function trigger(name: string, projects: string): string {
  return `
  CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
  BEGIN
    PERFORM report_budget_mark(array_agg(x.project_id)) FROM (${projects}) AS x(project_id);
    RETURN NULL;
  END $$`;
}

const TRIGGERS: { table: string; fn: string; event: 'INSERT' | 'UPDATE' | 'DELETE'; projects: string }[] = [
  { table: 'allocation', fn: 'report_budget_allocation_insert', event: 'INSERT', projects: allocationProjects('new_rows') },
  { table: 'allocation', fn: 'report_budget_allocation_update', event: 'UPDATE', projects: `${allocationProjects('old_rows')} UNION ALL ${allocationProjects('new_rows')}` },
  { table: 'allocation', fn: 'report_budget_allocation_delete', event: 'DELETE', projects: allocationProjects('old_rows') },
  { table: 'allocation_quota', fn: 'report_budget_quota_insert', event: 'INSERT', projects: quotaProjects('new_rows') },
  { table: 'allocation_quota', fn: 'report_budget_quota_update', event: 'UPDATE', projects: `${quotaProjects('old_rows')} UNION ALL ${quotaProjects('new_rows')}` },
  { table: 'allocation_quota', fn: 'report_budget_quota_delete', event: 'DELETE', projects: quotaProjects('old_rows') },
  { table: 'alloc_bundle', fn: 'report_budget_bundle_insert', event: 'INSERT', projects: EVERY_PROJECT },
  { table: 'alloc_bundle', fn: 'report_budget_bundle_update', event: 'UPDATE', projects: EVERY_PROJECT },
  { table: 'alloc_bundle', fn: 'report_budget_bundle_delete', event: 'DELETE', projects: EVERY_PROJECT },
  { table: 'alloc_resource', fn: 'report_budget_resource_insert', event: 'INSERT', projects: EVERY_PROJECT },
  { table: 'alloc_resource', fn: 'report_budget_resource_update', event: 'UPDATE', projects: EVERY_PROJECT },
  { table: 'alloc_resource', fn: 'report_budget_resource_delete', event: 'DELETE', projects: EVERY_PROJECT },
];

const transition = (event: string) => (event === 'INSERT' ? 'REFERENCING NEW TABLE AS new_rows' : event === 'DELETE' ? 'REFERENCING OLD TABLE AS old_rows' : 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows');

export class BudgetDerivation1763801810000 implements MigrationInterface {
  name = 'BudgetDerivation1763801810000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE "report_budget_recompute_seq"`);
    await queryRunner.query(
      `CREATE TABLE "report_budget_recompute" (
        "project_id" text NOT NULL,
        "seq" bigint NOT NULL,
        "requested_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "report_budget_recompute_pk" PRIMARY KEY ("project_id")
      )`,
    );
    await queryRunner.query(`CREATE INDEX "report_budget_recompute_requested_idx" ON "report_budget_recompute" ("requested_at")`);
    await queryRunner.query(MARK);
    for (const t of TRIGGERS) {
      await queryRunner.query(trigger(t.fn, t.projects));
      await queryRunner.query(`CREATE TRIGGER "${t.fn}_tr" AFTER ${t.event} ON "${t.table}" ${transition(t.event)} FOR EACH STATEMENT EXECUTE FUNCTION ${t.fn}()`);
    }
    // Allocations approved before this migration get their budgets at the first pass of the loop.
    await queryRunner.query(`SELECT report_budget_mark(array_agg(project_id)) FROM (${EVERY_PROJECT}) x`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const t of [...TRIGGERS].reverse()) {
      await queryRunner.query(`DROP TRIGGER "${t.fn}_tr" ON "${t.table}"`);
      await queryRunner.query(`DROP FUNCTION ${t.fn}()`);
    }
    await queryRunner.query(`DROP FUNCTION report_budget_mark(text[])`);
    await queryRunner.query(`DROP TABLE "report_budget_recompute"`);
    await queryRunner.query(`DROP SEQUENCE "report_budget_recompute_seq"`);
  }
}
