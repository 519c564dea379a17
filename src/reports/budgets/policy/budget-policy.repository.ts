import { Injectable } from '@nestjs/common';
import { runRows, Sql } from '../../../database/query-result';

export interface PolicyRow {
  project_id: string;
  thresholds: number[] | null;
  overdraft: string | null;
}

/** The SQL of report_budget_policy (reports.md 6.5). */
@Injectable()
export class BudgetPolicyRepository {
  /** The projects' own policy rows (absent: defaults). */
  rows(sql: Sql, projectIds: string[]): Promise<PolicyRow[]> {
    return runRows<PolicyRow>(
      sql,
      `SELECT "project_id", "thresholds", "overdraft"::text AS "overdraft" FROM "report_budget_policy" WHERE "project_id" = ANY($1::text[])`,
      [projectIds],
    );
  }
}
