export enum QuotasError {
  /** Malformed Astakos request (rendered as a `badRequest` fault under /astakos). */
  BadRequest = 'quotas.bad_request',
  /** The token in an identity body is not a known credential. */
  Unauthorized = 'quotas.unauthorized',
  /** A provision names a (holder, source, resource) with no holding (4.6, `NoHoldingError`). */
  NoHolding = 'quotas.no_holding',
  /** An import would exceed the limit (`NoCapacityError`). */
  NoCapacity = 'quotas.no_capacity',
  /** A release would take usage below zero (`NoQuantityError`). */
  NoQuantity = 'quotas.no_quantity',
  /** Unknown user, project or serial for the caller. */
  NotFound = 'quotas.not_found',
  /** Admin API (quotas.md 6): a field of the wrong type or value. */
  InvalidField = 'quotas.invalid_field',
  ResourceNotFound = 'quotas.resource_not_found',
  ResourceInUse = 'quotas.resource_in_use',
}

export const QUOTAS_ERROR_STATUS: Record<QuotasError, number> = {
  [QuotasError.BadRequest]: 400,
  [QuotasError.Unauthorized]: 401,
  [QuotasError.NoHolding]: 404,
  [QuotasError.NoCapacity]: 413,
  [QuotasError.NoQuantity]: 413,
  [QuotasError.NotFound]: 404,
  [QuotasError.InvalidField]: 400,
  [QuotasError.ResourceNotFound]: 404,
  [QuotasError.ResourceInUse]: 409,
};
