import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runOne, runRows, Sql } from '../../../database/query-result';
import { ENTRY_KINDS, FIGURE_OF } from '../ledger/budget-ledger.service';

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const EXACT = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const CONSUMED_KINDS = ENTRY_KINDS.filter((k) => FIGURE_OF[k] === 'consumed');

/** A budget row as the routes read it: figures of 6.3 as stored, instants with milliseconds. */
export interface BudgetRecord {
  id: string;
  project_id: string;
  allocation_id: number | null;
  period_start: string;
  period_end: string;
  granted: string;
  consumed: string;
  held: string;
  outside_period: string;
  /** Whether the period contains as_of. */
  current: boolean;
  as_of: string;
  /** as_of with microseconds, for arithmetic. */
  as_of_exact: string;
}

const BUDGET_SELECT = `SELECT b."id"::text AS "id", b."project_id", b."allocation_id", ${ISO('b."period_start"')} AS "period_start", ${ISO('b."period_end"')} AS "period_end",
  b."granted"::text AS "granted", b."consumed"::text AS "consumed", b."held"::text AS "held", b."outside_period"::text AS "outside_period",
  (b."period_start" <= now() AND b."period_end" > now()) AS "current", ${ISO('now()')} AS "as_of", ${EXACT('now()')} AS "as_of_exact"
  FROM "report_budget" b`;

/** The answer's columns of a ledger entry (6.2), in the contract's order. */
export const ENTRY_ANSWER_COLUMNS = ['id', 'kind', 'amount', 'at', 'posted_at', 'ref', 'actor', 'reason'] as const;
const ENTRY_SELECT = `SELECT 'le_' || e."id" AS "id", e."kind", e."amount"::text AS "amount", ${ISO('e."at"')} AS "at", ${ISO('e."posted_at"')} AS "posted_at",
  e."ref", e."actor", e."reason"`;

export interface EntryAnswerRow {
  id: string;
  kind: string;
  amount: string;
  at: string;
  posted_at: string;
  ref: string | null;
  actor: string;
  reason: string | null;
  /** Sort key: posted_at with microseconds and the numeric id. */
  k_posted: string;
  k_id: string;
}

/** Every SQL statement of the budget routes (reports.md 6.5); balance changes go through BudgetLedgerService. */
@Injectable()
export class BudgetsRepository {
  constructor(private readonly db: DataSource) {}

  /** An instant or a bare date (the start of that local day of `tz`) as an instant with microseconds; null when PostgreSQL refuses it. */
  async instant(value: string, tz: string, sql: Sql = this.db): Promise<string | null> {
    try {
      const row = await runOne<{ at: string }>(
        sql,
        `SELECT ${EXACT(`CASE WHEN $1::text ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN report_day_start($1::text::date, $2) ELSE $1::text::timestamptz END`)} AS "at"`,
        [value, tz],
      );
      return row?.at ?? null;
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('22')) return null;
      throw error;
    }
  }

  /** The project's budget whose period contains now, or the one starting at `periodStart`. */
  budget(projectId: string, periodStart: string | null, sql: Sql = this.db): Promise<BudgetRecord | undefined> {
    return periodStart === null
      ? runOne<BudgetRecord>(sql, `${BUDGET_SELECT} WHERE b."project_id" = $1 AND b."period_start" <= now() AND b."period_end" > now()`, [projectId])
      : runOne<BudgetRecord>(sql, `${BUDGET_SELECT} WHERE b."project_id" = $1 AND b."period_start" = $2::timestamptz`, [projectId, periodStart]);
  }

  /** Budgets in their current period, by project id in byte order, after `after`; `projects` null: every project. */
  current(projects: string[] | null, after: string | null, limit: number | null, sql: Sql = this.db): Promise<BudgetRecord[]> {
    return runRows<BudgetRecord>(
      sql,
      `${BUDGET_SELECT} WHERE b."period_start" <= now() AND b."period_end" > now()
         AND ($1::text[] IS NULL OR b."project_id" = ANY($1::text[])) AND ($2::text IS NULL OR b."project_id" > $2 COLLATE "C")
       ORDER BY b."project_id" COLLATE "C" LIMIT $3`,
      [projects, after, limit],
    );
  }

  /** The current arming of each threshold that is crossed (the latest arming not re-armed), by budget. */
  async crossings(budgetIds: string[], sql: Sql = this.db): Promise<Map<string, Map<number, { crossed_at: string; event_id: string }>>> {
    const rows = await runRows<{ budget_id: string; threshold: number; crossed_at: string; event_id: string; rearmed: boolean }>(
      sql,
      `SELECT DISTINCT ON (a."budget_id", a."threshold") a."budget_id"::text AS "budget_id", a."threshold", ${ISO('a."crossed_at"')} AS "crossed_at",
         a."crossed_event_id"::text AS "event_id", a."rearmed_at" IS NOT NULL AS "rearmed"
       FROM "report_budget_arming" a WHERE a."budget_id" = ANY($1::bigint[])
       ORDER BY a."budget_id", a."threshold", a."arming" DESC`,
      [budgetIds],
    );
    const out = new Map<string, Map<number, { crossed_at: string; event_id: string }>>();
    for (const r of rows) {
      if (r.rearmed) continue;
      if (!out.has(r.budget_id)) out.set(r.budget_id, new Map());
      out.get(r.budget_id)!.set(r.threshold, { crossed_at: r.crossed_at, event_id: r.event_id });
    }
    return out;
  }

  /** Net consumption (SU, positive = consumed) of the 14 complete local days before today, by budget (6.5 burn_rate_per_day). */
  async lastFourteenDays(budgetIds: string[], tz: string, sql: Sql = this.db): Promise<Map<string, string>> {
    const rows = await runRows<{ budget_id: string; consumed: string }>(
      sql,
      `WITH d AS (SELECT report_local_day(now(), $2) AS today)
       SELECT e."budget_id"::text AS "budget_id", (-sum(e."amount"))::numeric(30,6)::text AS "consumed"
       FROM "report_budget_entry" e, d
       WHERE e."budget_id" = ANY($1::bigint[]) AND e."kind" = ANY($3::text[])
         AND e."at" >= report_day_start(d.today - 14, $2) AND e."at" < report_day_start(d.today, $2)
       GROUP BY e."budget_id"`,
      [budgetIds, tz, CONSUMED_KINDS],
    );
    return new Map(rows.map((r) => [r.budget_id, r.consumed]));
  }

  /** One row per local day of the period up to today (or its last day): that day's net consumption from the ledger. */
  series(budgetId: string, tz: string, sql: Sql = this.db): Promise<{ day: string; consumed: string; today: boolean }[]> {
    return runRows(
      sql,
      `WITH b AS (SELECT "period_start", "period_end" FROM "report_budget" WHERE "id" = $1),
         days AS (
           SELECT d::date AS day FROM b, generate_series(report_local_day(b."period_start", $2),
             least(report_local_day(now(), $2), report_local_day(b."period_end" - interval '1 microsecond', $2)), interval '1 day') AS d
         )
       SELECT days.day::text AS "day", (days.day = report_local_day(now(), $2)) AS "today",
         (-coalesce((SELECT sum(e."amount") FROM "report_budget_entry" e
                     WHERE e."budget_id" = $1 AND e."kind" = ANY($3::text[])
                       AND e."at" >= report_day_start(days.day, $2) AND e."at" < report_day_start(days.day + 1, $2)), 0))::numeric(30,6)::text AS "consumed"
       FROM days ORDER BY days.day`,
      [budgetId, tz, CONSUMED_KINDS],
    );
  }

  /**
   * Seconds the budgets of these projects may lag behind their sources:
   * the age of the oldest dirty usage key or range (as the usage report says, §3.1)
   * or owed derivation (6.1) of the project; 0 when none.
   */
  async lag(projectIds: string[], sql: Sql = this.db): Promise<Map<string, number>> {
    const rows = await runRows<{ project_id: string; lag: number }>(
      sql,
      `SELECT p AS "project_id", coalesce(floor(extract(epoch FROM now() - least(
           (SELECT min(k."first_dirtied_at") FROM "report_dirty_key" k WHERE k."project_id" = p),
           (SELECT min(g."first_dirtied_at") FROM "report_dirty_range" g WHERE g."project_id" = p),
           (SELECT min(r."requested_at") FROM "report_budget_recompute" r WHERE r."project_id" = p)))), 0)::int AS "lag"
       FROM unnest($1::text[]) AS p`,
      [projectIds],
    );
    return new Map(rows.map((r) => [r.project_id, Math.max(0, r.lag)]));
  }

  /** A page of a budget's entries, oldest first by (posted_at, id), optionally within a window on posted_at. */
  entries(budgetId: string, window: { start: string; end: string } | null, after: [string, string] | null, limit: number, sql: Sql = this.db): Promise<EntryAnswerRow[]> {
    return runRows<EntryAnswerRow>(
      sql,
      `${ENTRY_SELECT}, ${EXACT('e."posted_at"')} AS "k_posted", e."id"::text AS "k_id"
       FROM "report_budget_entry" e
       WHERE e."budget_id" = $1 AND ($2::timestamptz IS NULL OR e."posted_at" >= $2) AND ($3::timestamptz IS NULL OR e."posted_at" < $3)
         AND ($4::timestamptz IS NULL OR (e."posted_at", e."id") > ($4::timestamptz, $5::bigint))
       ORDER BY e."posted_at", e."id" LIMIT $6`,
      [budgetId, window?.start ?? null, window?.end ?? null, after?.[0] ?? null, after?.[1] ?? null, limit],
    );
  }

  /** The statement of the ledger's CSV form (same order and filter, every entry). */
  entriesExport(budgetId: string, window: { start: string; end: string } | null): { sql: string; params: unknown[] } {
    return {
      sql: `${ENTRY_SELECT} FROM "report_budget_entry" e
            WHERE e."budget_id" = $1 AND ($2::timestamptz IS NULL OR e."posted_at" >= $2) AND ($3::timestamptz IS NULL OR e."posted_at" < $3)
            ORDER BY e."posted_at", e."id"`,
      params: [budgetId, window?.start ?? null, window?.end ?? null],
    };
  }

  /** A list of computed rows handed to the CSV exporter as one statement (the rows as one JSON parameter, in order). */
  rowsExport(rows: object[]): { sql: string; params: unknown[] } {
    return { sql: `SELECT r.v AS "v" FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(v, n) ORDER BY r.n`, params: [JSON.stringify(rows)] };
  }

  /** Writes a project's policy; both null removes it (the defaults apply). */
  async putPolicy(projectId: string, thresholds: number[] | null, overdraft: string | null, sql: Sql = this.db): Promise<void> {
    if (thresholds === null && overdraft === null) {
      await runRows(sql, `DELETE FROM "report_budget_policy" WHERE "project_id" = $1`, [projectId]);
      return;
    }
    await runRows(
      sql,
      `INSERT INTO "report_budget_policy" ("project_id", "thresholds", "overdraft", "updated_at") VALUES ($1, $2::integer[], $3::numeric, now())
       ON CONFLICT ("project_id") DO UPDATE SET "thresholds" = EXCLUDED."thresholds", "overdraft" = EXCLUDED."overdraft", "updated_at" = now()`,
      [projectId, thresholds, overdraft],
    );
  }
}
