/** Error codes of the reports module (reports.md §10, "Common error statuses"). */
export enum ReportsError {
  /** A query parameter or body field is wrong; `fields` names each (§1.1). */
  Invalid = 'reports.invalid',
  /** A `user` token names a project outside its list (§1.3). */
  ForeignProject = 'reports.foreign_project',
}

export const REPORTS_ERROR_STATUS: Record<ReportsError, number> = {
  [ReportsError.Invalid]: 400,
  [ReportsError.ForeignProject]: 403,
};
