/** Error codes of the reports module (reports.md §10, "Common error statuses"). */
export enum ReportsError {
  /** A query parameter or body field is wrong; `fields` names each (§1.1). */
  Invalid = 'reports.invalid',
  /** A `user` token names a project outside its list (§1.3). */
  ForeignProject = 'reports.foreign_project',
  /** The `Idempotency-Key` header is empty, too long or not printable (§1.8). */
  IdempotencyKeyInvalid = 'reports.idempotency_key_invalid',
  /** The `Idempotency-Key` was first used with another method, path or body (§1.8). */
  IdempotencyKeyReused = 'reports.idempotency_key_reused',
}

export const REPORTS_ERROR_STATUS: Record<ReportsError, number> = {
  [ReportsError.Invalid]: 400,
  [ReportsError.ForeignProject]: 403,
  [ReportsError.IdempotencyKeyInvalid]: 400,
  [ReportsError.IdempotencyKeyReused]: 409,
};
