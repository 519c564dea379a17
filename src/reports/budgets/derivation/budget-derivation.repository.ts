import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runOne, runRows } from '../../../database/query-result';
import { ENTRY_COLUMNS, EntryRow } from '../ledger/budget-ledger.service';

/** An owed derivation (report_budget_recompute). */
export interface OwedDerivation {
  projectId: string;
  seq: string;
}

/** A budget of the project as derivation sees it: its period and the part of granted its approvals gave. */
export interface DerivedBudgetRow {
  id: string;
  periodStart: string;
  periodEnd: string;
  /** Σ of its `grant` and `grant_adjustment` entries (admin grants left out). */
  derivedGrant: string;
  /** Null for a budget no approval made (written directly, as test fixtures do). */
  allocationId: number | null;
}

/** Entry kinds that follow their `at` when a budget's period moves (usage and manual consumption; grants and holds stay). */
export const MOVABLE_KINDS = ['amie_debit', 'amie_credit', 'amie_reversal', 'accrual', 'accrual_adjustment', 'manual_credit', 'manual_debit'] as const;

/** Prefix of the `source` of the entries a move writes: such an entry never moves again. */
export const MOVE_SOURCE = 'move:';

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The SQL of budget derivation (reports.md 6.1): the owed projects, the
 * dates of an approval, local day starts, and the budget rows' period and
 * allocation columns (the figures change only through BudgetLedgerService).
 */
@Injectable()
export class BudgetDerivationRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(run: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(run);
  }

  /** Owed derivations, oldest first. */
  owed(limit: number): Promise<OwedDerivation[]> {
    return runRows<OwedDerivation>(
      this.db,
      `SELECT "project_id" AS "projectId", "seq"::text AS "seq" FROM "report_budget_recompute" ORDER BY "requested_at", "project_id" LIMIT $1`,
      [limit],
    );
  }

  /** Serialises the derivations of one project (any number of loops). */
  async lockProject(m: EntityManager, projectId: string): Promise<void> {
    await runRows(m, `SELECT pg_advisory_xact_lock(hashtext('report_budget_recompute'), hashtext($1))`, [projectId]);
  }

  async owedSeq(m: EntityManager, projectId: string): Promise<string | undefined> {
    return (await runOne<{ seq: string }>(m, `SELECT "seq"::text AS "seq" FROM "report_budget_recompute" WHERE "project_id" = $1`, [projectId]))?.seq;
  }

  async clearOwed(m: EntityManager, projectId: string, seq: string): Promise<void> {
    await runRows(m, `DELETE FROM "report_budget_recompute" WHERE "project_id" = $1 AND "seq" = $2`, [projectId, seq]);
  }

  /** The approval record's dates as `YYYY-MM-DD` (null when unset). */
  async approvalDates(m: EntityManager, allocationId: number): Promise<{ start_date: string | null; end_date: string | null }> {
    const row = await runOne<{ start_date: string | null; end_date: string | null }>(
      m,
      `SELECT "start_date"::text AS "start_date", "end_date"::text AS "end_date" FROM "allocation" WHERE "id" = $1`,
      [allocationId],
    );
    return row ?? { start_date: null, end_date: null };
  }

  /** The starts of two local days (report_day_start, §1.5) and now, with six fractional digits. */
  async dayStarts(m: EntityManager, start: string, end: string, tz: string): Promise<{ start: string; end: string }> {
    return (await runOne<{ start: string; end: string }>(
      m,
      `SELECT ${ISO('report_day_start($1::date, $3)')} AS "start", ${ISO('report_day_start($2::date, $3)')} AS "end"`,
      [start, end, tz],
    ))!;
  }

  async now(m: EntityManager): Promise<string> {
    return (await runOne<{ now: string }>(m, `SELECT ${ISO('now()')} AS "now"`))!.now;
  }

  /** Every budget of the project, oldest period first. */
  budgets(m: EntityManager, projectId: string): Promise<DerivedBudgetRow[]> {
    return runRows<DerivedBudgetRow>(
      m,
      `SELECT b."id"::text AS "id", ${ISO('b."period_start"')} AS "periodStart", ${ISO('b."period_end"')} AS "periodEnd",
         coalesce((SELECT sum(e."amount") FROM "report_budget_entry" e WHERE e."budget_id" = b."id" AND e."kind" IN ('grant', 'grant_adjustment')), 0)::numeric(30,6)::text AS "derivedGrant",
         b."allocation_id" AS "allocationId"
       FROM "report_budget" b WHERE b."project_id" = $1 ORDER BY b."period_start"`,
      [projectId],
    );
  }

  async insertBudget(m: EntityManager, b: { projectId: string; start: string; end: string; allocationId: number; approvalId: number }): Promise<string> {
    const row = await runOne<{ id: string }>(
      m,
      `INSERT INTO "report_budget" ("project_id", "period_start", "period_end", "allocation_id", "approval_id") VALUES ($1, $2, $3, $4, $5) RETURNING "id"::text AS "id"`,
      [b.projectId, b.start, b.end, b.allocationId, b.approvalId],
    );
    return row!.id;
  }

  /** Moves a locked budget's end. */
  async setPeriodEnd(m: EntityManager, budgetId: string, end: string): Promise<void> {
    await runRows(m, `UPDATE "report_budget" SET "period_end" = $2, "updated_at" = now() WHERE "id" = $1`, [budgetId, end]);
  }

  async setAllocation(m: EntityManager, budgetId: string, allocationId: number, approvalId: number): Promise<void> {
    await runRows(
      m,
      `UPDATE "report_budget" SET "allocation_id" = $2, "approval_id" = $3, "updated_at" = now()
       WHERE "id" = $1 AND ("allocation_id", "approval_id") IS DISTINCT FROM ($2, $3)`,
      [budgetId, allocationId, approvalId],
    );
  }

  /**
   * The entries of a budget that no longer belong to its period [start, end):
   * movable kinds, not yet moved (no entry reverses them), not written by a
   * move; oldest first. A reversal (an `amie_reversal` of an older version)
   * stays with the entry it reverses (both stay: reversed entries never
   * move), or a move would carry half of a pair that nets to zero.
   */
  entriesOutside(m: EntityManager, budgetId: string, start: string, end: string): Promise<(EntryRow & { at_exact: string })[]> {
    return runRows<EntryRow & { at_exact: string }>(
      m,
      `SELECT ${ENTRY_COLUMNS}, ${ISO('e."at"')} AS "at_exact" FROM "report_budget_entry" e
       WHERE e."budget_id" = $1 AND e."kind" = ANY($4::text[]) AND (e."at" < $2::timestamptz OR e."at" >= $3::timestamptz)
         AND (e."source" IS NULL OR e."source" NOT LIKE '${MOVE_SOURCE}%') AND e."reverses" IS NULL
         AND NOT EXISTS (SELECT 1 FROM "report_budget_entry" r WHERE r."reverses" = e."id")
       ORDER BY e."id"`,
      [budgetId, start, end, [...MOVABLE_KINDS]],
    );
  }
}
