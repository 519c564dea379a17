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
};

/** Reference wordings (almanach-v1.md 4). */
export const INVALID_PAYLOAD = 'Invalid parameter or payload';
export const INVALID_DATE =
  'The provided date has an invalid format. Format should be of yyyy-mm-ddThh:mm:ss.msZ, ex: 2015-01-31T18:24:34.1523Z';
export const missingParam = (field: string) => `The '${field}' param is mandatory for the request you have made.`;
