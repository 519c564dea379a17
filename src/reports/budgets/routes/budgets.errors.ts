/** Error codes of the budget routes (reports.md 6.5). */
export enum BudgetsError {
  /** No current budget (or none starting at `period_start`), or a manual entry's `at` in no budget period. */
  NotFound = 'reports.budget_not_found',
}

export const BUDGETS_ERROR_STATUS: Record<BudgetsError, number> = {
  [BudgetsError.NotFound]: 404,
};
