/**
 * The one error type services throw. It carries a code (`context.snake_case`)
 * and a message for people; the global filter maps the code to an HTTP status
 * (each feature's map, gathered in src/composition.ts) and renders the body in the shape of the request's
 * mount. Services never pick HTTP statuses.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: DomainErrorExtra = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export interface DomainErrorExtra {
  /** Per-field messages (Almanach update: one string; allocations: lists). */
  fields?: Record<string, string | string[]>;
  /** Protocol-specific payload (Synnefo `data` of overLimit, for example). */
  data?: unknown;
  /** Methods served on the path, for 405. */
  allow?: string[];
  /** Seconds for a `Retry-After` header (429 of a busy resource, such as the CSV export slots). */
  retryAfter?: number;
}

export enum CommonError {
  BadRequest = 'common.bad_request',
  Validation = 'common.validation',
  InvalidJson = 'common.invalid_json',
  Unauthorized = 'common.unauthorized',
  Forbidden = 'common.forbidden',
  NotFound = 'common.not_found',
  MethodNotAllowed = 'common.method_not_allowed',
  Conflict = 'common.conflict',
  PayloadTooLarge = 'common.payload_too_large',
  UnsupportedMediaType = 'common.unsupported_media_type',
  Unavailable = 'common.unavailable',
  Internal = 'common.internal',
}

export const COMMON_ERROR_STATUS: Record<CommonError, number> = {
  [CommonError.BadRequest]: 400,
  [CommonError.Validation]: 400,
  [CommonError.InvalidJson]: 400,
  [CommonError.Unauthorized]: 401,
  [CommonError.Forbidden]: 403,
  [CommonError.NotFound]: 404,
  [CommonError.MethodNotAllowed]: 405,
  [CommonError.Conflict]: 409,
  [CommonError.PayloadTooLarge]: 413,
  [CommonError.UnsupportedMediaType]: 415,
  [CommonError.Unavailable]: 503,
  [CommonError.Internal]: 500,
};
