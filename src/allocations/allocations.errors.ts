/** Error codes of the allocation protocol (allocations.md 11). */
export enum AllocationsError {
  Validation = 'allocations.validation',
  BadRequest = 'allocations.bad_request',
  Forbidden = 'allocations.forbidden',
  NotFound = 'allocations.not_found',
  WrongState = 'allocations.wrong_state',
  HistoryFrozen = 'allocations.history_frozen',
  ProjectIdTaken = 'allocations.project_id_taken',
}

export const ALLOCATIONS_ERROR_STATUS: Record<AllocationsError, number> = {
  [AllocationsError.Validation]: 400,
  [AllocationsError.BadRequest]: 400,
  [AllocationsError.Forbidden]: 403,
  [AllocationsError.NotFound]: 404,
  [AllocationsError.WrongState]: 409,
  [AllocationsError.HistoryFrozen]: 409,
  [AllocationsError.ProjectIdTaken]: 409,
};
