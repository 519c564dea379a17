import { DomainError } from '../http/domain-error';

export enum AlmanachError {
  MissingParam = 'almanach.missing_param',
  InvalidPayload = 'almanach.invalid_payload',
  InvalidDate = 'almanach.invalid_date',
  InvalidUpdate = 'almanach.invalid_update',
  MultipleEntities = 'almanach.multiple_entities',
  DatesOutOfOrder = 'almanach.dates_out_of_order',
  EntityNotFound = 'almanach.entity_not_found',
  VolumeTypeNotFound = 'almanach.volume_type_not_found',
  Conflict = 'almanach.conflict',
  /** The database refused the change with a message for the client (SQLSTATE LH001: the late-data horizon, reports.md 5.4). */
  ChangeRefused = 'almanach.change_refused',
}

export const ALMANACH_ERROR_STATUS: Record<AlmanachError, number> = {
  [AlmanachError.MissingParam]: 400,
  [AlmanachError.InvalidPayload]: 400,
  [AlmanachError.InvalidDate]: 400,
  [AlmanachError.InvalidUpdate]: 400,
  [AlmanachError.MultipleEntities]: 400,
  [AlmanachError.DatesOutOfOrder]: 400,
  [AlmanachError.EntityNotFound]: 404,
  [AlmanachError.VolumeTypeNotFound]: 404,
  [AlmanachError.Conflict]: 409,
  [AlmanachError.ChangeRefused]: 400,
};

/**
 * SQLSTATE of a change the database refuses by policy, its message written
 * for the client (almanach-v1.md 4: "Change reaches <day>, beyond the
 * late-data horizon of <n> days"). Raised by triggers on the history table
 * that this module does not own; the module only passes the message on.
 */
export const REFUSED_CHANGE_SQLSTATE = 'LH001';

/**
 * A change the database refused with SQLSTATE LH001 is a 400 carrying the
 * database's message as is (the transaction has rolled back: nothing is
 * written); undefined for any other error. AlmanachService.write applies it
 * to every write, so the HTTP routes and the collector see the same error.
 */
export function refusedByDatabase(error: unknown): DomainError | undefined {
  const e = error as { code?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  if (code !== REFUSED_CHANGE_SQLSTATE) return undefined;
  const message = e.driverError?.message ?? e.message;
  return new DomainError(AlmanachError.ChangeRefused, typeof message === 'string' ? message : 'Change refused');
}

/** Reference wordings (almanach-v1.md 4). */
export const INVALID_PAYLOAD = 'Invalid parameter or payload';
export const INVALID_DATE =
  'The provided date has an invalid format. Format should be of yyyy-mm-ddThh:mm:ss.msZ, ex: 2015-01-31T18:24:34.1523Z';
export const missingParam = (field: string) => `The '${field}' param is mandatory for the request you have made.`;
