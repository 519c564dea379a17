/** Error codes of the events feed and webhook routes (reports.md 6.7). */
export enum BudgetEventsError {
  /** `DELETE /admin/reports/webhooks/{id}` of an unknown webhook. */
  WebhookNotFound = 'events.webhook_not_found',
}

export const BUDGET_EVENTS_ERROR_STATUS: Record<BudgetEventsError, number> = {
  [BudgetEventsError.WebhookNotFound]: 404,
};
