import { Injectable } from '@nestjs/common';
import { Sql } from '../../../database/query-result';
import { BudgetPolicyRepository } from './budget-policy.repository';
import { AppConfig } from '../../../config/app-config';

/** A project's effective policy (reports.md 6.5, 6.6): thresholds ascending, overdraft with 6 places. */
export interface BudgetPolicy {
  thresholds: number[];
  overdraft: string;
}

/**
 * Reads report_budget_policy: a project's own thresholds and overdraft, each
 * falling back to the defaults (`BUDGET_THRESHOLDS`, overdraft 0) when not
 * set. The policy belongs to the project and applies to all its budgets.
 */
@Injectable()
export class BudgetPolicyService {
  constructor(
    private readonly config: AppConfig,
    private readonly repo: BudgetPolicyRepository,
  ) {}

  get defaults(): BudgetPolicy {
    return { thresholds: this.config.budgetThresholds, overdraft: '0.000000' };
  }

  async effective(sql: Sql, projectId: string): Promise<BudgetPolicy> {
    return (await this.effectiveMany(sql, [projectId])).get(projectId)!;
  }

  /** Project id → effective policy, for every asked project. */
  async effectiveMany(sql: Sql, projectIds: string[]): Promise<Map<string, BudgetPolicy>> {
    const rows = await this.repo.rows(sql, projectIds);
    const own = new Map(rows.map((r) => [r.project_id, r]));
    const out = new Map<string, BudgetPolicy>();
    for (const p of projectIds) {
      const row = own.get(p);
      out.set(p, {
        thresholds: row?.thresholds ? [...row.thresholds].sort((a, b) => a - b) : this.defaults.thresholds,
        overdraft: row?.overdraft ?? this.defaults.overdraft,
      });
    }
    return out;
  }
}
