import { DomainError } from '../http/domain-error';

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

/**
 * The one shape of an allocation validation failure (allocations.md 2.7):
 * `{"error": "<field>: <first message>", "fields": {"<field>": ["<message>", ...]}}`.
 * Every 400 about a field of the mount is built here.
 */
export function invalidFields(fields: Record<string, string[]>): DomainError {
  const [field, messages] = Object.entries(fields)[0];
  return new DomainError(AllocationsError.Validation, `${field}: ${messages[0]}`, { fields });
}

/** A 400 on one field or query parameter. */
export function invalidField(name: string, message: string): DomainError {
  return invalidFields({ [name]: [message] });
}
