import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runRows, Sql } from '../../../database/query-result';

/** The newest arming of one threshold of a budget: `open` while crossed and not re-armed. */
export interface LatestArming {
  threshold: number;
  arming: number;
  open: boolean;
}

/** report_budget_arming (reports.md 6.6), and what the live evaluator reads to pick its budgets. */
@Injectable()
export class ArmingsRepository {
  constructor(private readonly db: DataSource) {}

  /** Threshold → its newest arming, for one budget (read under the budget's row lock). */
  async latest(m: EntityManager, budgetId: string): Promise<Map<number, LatestArming>> {
    const rows = await runRows<LatestArming>(
      m,
      `SELECT DISTINCT ON ("threshold") "threshold", "arming", "rearmed_at" IS NULL AS "open"
       FROM "report_budget_arming" WHERE "budget_id" = $1 ORDER BY "threshold", "arming" DESC`,
      [budgetId],
    );
    return new Map(rows.map((r) => [r.threshold, r]));
  }

  /** A crossing: the primary key (budget, threshold, arming) is 6.6's unique key. */
  async cross(m: EntityManager, budgetId: string, threshold: number, arming: number, eventId: string): Promise<void> {
    await m.query(
      `INSERT INTO "report_budget_arming" ("budget_id", "threshold", "arming", "crossed_at", "crossed_event_id") VALUES ($1, $2, $3, clock_timestamp(), $4)`,
      [budgetId, threshold, arming, eventId],
    );
  }

  async rearm(m: EntityManager, budgetId: string, threshold: number, arming: number, eventId: string): Promise<void> {
    await m.query(
      `UPDATE "report_budget_arming" SET "rearmed_at" = clock_timestamp(), "rearmed_event_id" = $4
       WHERE "budget_id" = $1 AND "threshold" = $2 AND "arming" = $3 AND "rearmed_at" IS NULL`,
      [budgetId, threshold, arming, eventId],
    );
  }

  /** Budgets whose period contains now (the live evaluator's), by id. */
  current(sql: Sql = this.db): Promise<{ id: string; projectId: string }[]> {
    return runRows(
      sql,
      `SELECT "id"::text AS "id", "project_id" AS "projectId" FROM "report_budget" WHERE "period_start" <= now() AND "period_end" > now() ORDER BY "id"`,
    );
  }

  /** Today, a day of `zone` (the day accrued_today is the cost of). */
  async today(zone: string, sql: Sql = this.db): Promise<string> {
    const [row] = await runRows<{ day: string }>(sql, `SELECT report_local_day(now(), $1::text)::text AS "day"`, [zone]);
    return row.day;
  }

  /**
   * Projects among `projectIds` whose booked days may still owe an accrual
   * (6.2): the day roll is due, or the project has dirty keys (or an
   * undrained dirty range) of booked days. Their consumed is then short of
   * a day's cost, so the live evaluator does not re-arm them this round.
   */
  async accrualPending(projectIds: string[], sql: Sql = this.db): Promise<Set<string>> {
    const rows = await runRows<{ project_id: string }>(
      sql,
      `WITH c AS (SELECT "booked_day", "booked_day" < report_local_day(now(), "time_zone") AS "due" FROM "report_clock" WHERE "id" = 1)
       SELECT p AS "project_id" FROM unnest($1::text[]) AS p, c
       WHERE c."due" OR EXISTS (SELECT 1 FROM "report_dirty_key" k WHERE k."project_id" = p AND k."day" < c."booked_day")
          OR EXISTS (SELECT 1 FROM "report_dirty_range" r WHERE r."project_id" = p AND r."first_day" < c."booked_day")`,
      [projectIds],
    );
    return new Set(rows.map((r) => r.project_id));
  }

  /** I7's first half: (project, period start, threshold, arming) with more than one crossing event, for budgets meeting [start, end). */
  duplicateCrossings(start: string, end: string, projects: string[] | null, sql: Sql): Promise<{ project_id: string; period_start: string; threshold: number; arming: number; n: number }[]> {
    return runRows(
      sql,
      `SELECT e.project_id, e.data->'period'->>'start' AS period_start, (e.data->>'threshold')::int AS threshold, (e.data->>'arming')::int AS arming, count(*)::int AS n
       FROM report_event e
       WHERE e.type = 'budget.threshold_crossed' AND ($3::text[] IS NULL OR e.project_id = ANY($3))
         AND (e.data->'period'->>'start')::timestamptz < $2::timestamptz AND (e.data->'period'->>'end')::timestamptz > $1::timestamptz
       GROUP BY 1, 2, 3, 4 HAVING count(*) > 1 ORDER BY 1, 2, 3, 4`,
      [start, end, projects],
    );
  }

  /** I7's second half: the budgets meeting [start, end) with their figures and the thresholds crossed and not re-armed. */
  budgetsMeeting(start: string, end: string, projects: string[] | null, sql: Sql): Promise<{ id: string; project_id: string; period_start: string; granted: string; consumed: string; open: number[] }[]> {
    return runRows(
      sql,
      `SELECT b.id::text AS id, b.project_id, to_char(b.period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS period_start,
              b.granted::text AS granted, b.consumed::text AS consumed,
              coalesce((SELECT array_agg(DISTINCT a.threshold) FROM report_budget_arming a WHERE a.budget_id = b.id AND a.rearmed_at IS NULL), '{}') AS open
       FROM report_budget b
       WHERE b.period_start < $2::timestamptz AND b.period_end > $1::timestamptz AND ($3::text[] IS NULL OR b.project_id = ANY($3))
       ORDER BY b.id`,
      [start, end, projects],
    );
  }
}
