import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runOne, runRows, Sql } from '../../../database/query-result';
import type { BudgetRow, EntryRow, LockedBudget, NewEntry } from './budget-ledger.service';
import { ENTRY_KINDS, FIGURE_OF } from './entry-kinds';

const KINDS_MOVING = (figure: 'granted' | 'consumed' | 'held') => ENTRY_KINDS.filter((k) => FIGURE_OF[k] === figure);

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const BUDGET_COLUMNS = `"id"::text AS "id", "project_id" AS "projectId", ${ISO('"period_start"')} AS "periodStart", ${ISO('"period_end"')} AS "periodEnd",
  "allocation_id" AS "allocationId", "approval_id" AS "approvalId", "granted"::text AS "granted", "consumed"::text AS "consumed",
  "held"::text AS "held", "outside_period"::text AS "outsidePeriod"`;

export const ENTRY_COLUMNS = `"id"::text AS "id", "budget_id"::text AS "budget_id", "project_id", "kind", "amount"::text AS "amount",
  ${ISO('"at"')} AS "at", ${ISO('"posted_at"')} AS "posted_at", "ref", "actor", "reason", "hold_id", "source", "reverses"::text AS "reverses"`;

/** Every SQL statement of the ledger and balance rows (reports.md 6.2, 6.3); `BudgetLedgerService` is its one user. */
@Injectable()
export class BudgetLedgerRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(run: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(run);
  }

  find(sql: Sql, budgetId: string, forUpdate = false): Promise<BudgetRow | undefined> {
    return runOne<BudgetRow>(sql, `SELECT ${BUDGET_COLUMNS} FROM "report_budget" WHERE "id" = $1${forUpdate ? ' FOR UPDATE' : ''}`, [budgetId]);
  }

  findAt(sql: Sql, projectId: string, at: string, forUpdate = false): Promise<BudgetRow | undefined> {
    return runOne<BudgetRow>(
      sql,
      `SELECT ${BUDGET_COLUMNS} FROM "report_budget" WHERE "project_id" = $1 AND "period_start" <= $2::timestamptz AND "period_end" > $2::timestamptz${forUpdate ? ' FOR UPDATE' : ''}`,
      [projectId, at],
    );
  }

  /** Appends the entries (in order) and moves the budget's figures by their sums; answers both. */
  async append(m: EntityManager, budget: LockedBudget, entries: NewEntry[], toIso: (at: Date | string) => string): Promise<{ after: BudgetRow; inserted: EntryRow[] }> {
    const col = <T>(pick: (e: NewEntry) => T) => entries.map(pick);
    const inserted = await runRows<EntryRow>(
      m,
      `INSERT INTO "report_budget_entry" ("budget_id", "project_id", "kind", "amount", "at", "ref", "actor", "reason", "hold_id", "source", "reverses")
       SELECT $1, $2, e.kind, e.amount, e.at, e.ref, e.actor, e.reason, e.hold_id, e.source, e.reverses
       FROM unnest($3::text[], $4::numeric[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
         WITH ORDINALITY AS e(kind, amount, at, ref, actor, reason, hold_id, source, reverses, n)
       ORDER BY e.n
       RETURNING ${ENTRY_COLUMNS}`,
      [
        budget.id,
        budget.projectId,
        col((e) => e.kind),
        col((e) => e.amount),
        col((e) => toIso(e.at)),
        col((e) => e.ref ?? null),
        col((e) => e.actor),
        col((e) => e.reason ?? null),
        col((e) => e.holdId ?? null),
        col((e) => e.source ?? null),
        col((e) => e.reverses ?? null),
      ],
    );
    inserted.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const after = await runOne<BudgetRow>(
      m,
      `UPDATE "report_budget" SET
         "granted" = "granted" + coalesce((SELECT sum(a) FROM unnest($2::text[], $3::numeric[]) AS e(k, a) WHERE k = ANY($4::text[])), 0),
         "consumed" = "consumed" - coalesce((SELECT sum(a) FROM unnest($2::text[], $3::numeric[]) AS e(k, a) WHERE k = ANY($5::text[])), 0),
         "held" = "held" - coalesce((SELECT sum(a) FROM unnest($2::text[], $3::numeric[]) AS e(k, a) WHERE k = ANY($6::text[])), 0),
         "updated_at" = now()
       WHERE "id" = $1 RETURNING ${BUDGET_COLUMNS}`,
      [budget.id, col((e) => e.kind), col((e) => e.amount), KINDS_MOVING('granted'), KINDS_MOVING('consumed'), KINDS_MOVING('held')],
    );
    return { after: after as BudgetRow, inserted };
  }

  /** The row's figures beside the sums of its entries. */
  summed(sql: Sql, budgetId: string) {
    return runOne<{ granted: string; consumed: string; held: string; g: string; c: string; h: string }>(
      sql,
      `SELECT b."granted"::text AS "granted", b."consumed"::text AS "consumed", b."held"::text AS "held",
         coalesce(sum(e."amount") FILTER (WHERE e."kind" = ANY($2::text[])), 0)::numeric(30,6)::text AS "g",
         (-coalesce(sum(e."amount") FILTER (WHERE e."kind" = ANY($3::text[])), 0))::numeric(30,6)::text AS "c",
         (-coalesce(sum(e."amount") FILTER (WHERE e."kind" = ANY($4::text[])), 0))::numeric(30,6)::text AS "h"
       FROM "report_budget" b LEFT JOIN "report_budget_entry" e ON e."budget_id" = b."id"
       WHERE b."id" = $1 GROUP BY b."id"`,
      [budgetId, KINDS_MOVING('granted'), KINDS_MOVING('consumed'), KINDS_MOVING('held')],
    );
  }

  /** Moves outside_period by `delta` (BudgetLedgerService.addOutsidePeriod; the caller holds the row lock). */
  async addOutsidePeriod(m: EntityManager, budgetId: string, delta: string): Promise<BudgetRow> {
    const after = await runOne<BudgetRow>(
      m,
      `UPDATE "report_budget" SET "outside_period" = "outside_period" + $2::numeric, "updated_at" = now() WHERE "id" = $1 RETURNING ${BUDGET_COLUMNS}`,
      [budgetId, delta],
    );
    return after as BudgetRow;
  }

  /** Sets granted, consumed and held to the sums of the entries (BudgetLedgerService.restoreBalance; the caller holds the row lock). */
  async restoreBalance(m: EntityManager, budgetId: string): Promise<BudgetRow> {
    const after = await runOne<BudgetRow>(
      m,
      `UPDATE "report_budget" SET
         "granted" = (SELECT coalesce(sum(e."amount"), 0) FROM "report_budget_entry" e WHERE e."budget_id" = $1 AND e."kind" = ANY($2::text[])),
         "consumed" = (SELECT -coalesce(sum(e."amount"), 0) FROM "report_budget_entry" e WHERE e."budget_id" = $1 AND e."kind" = ANY($3::text[])),
         "held" = (SELECT -coalesce(sum(e."amount"), 0) FROM "report_budget_entry" e WHERE e."budget_id" = $1 AND e."kind" = ANY($4::text[])),
         "updated_at" = now()
       WHERE "id" = $1 RETURNING ${BUDGET_COLUMNS}`,
      [budgetId, KINDS_MOVING('granted'), KINDS_MOVING('consumed'), KINDS_MOVING('held')],
    );
    return after as BudgetRow;
  }
}
