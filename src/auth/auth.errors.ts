export enum AuthError {
  Unauthorized = 'auth.unauthorized',
  Forbidden = 'auth.forbidden',
  TokenNotFound = 'auth.token_not_found',
  SiteNotFound = 'auth.site_not_found',
  SiteExists = 'auth.site_exists',
  InvalidField = 'auth.invalid_field',
}

export const AUTH_ERROR_STATUS: Record<AuthError, number> = {
  [AuthError.Unauthorized]: 401,
  [AuthError.Forbidden]: 403,
  [AuthError.TokenNotFound]: 404,
  [AuthError.SiteNotFound]: 404,
  [AuthError.SiteExists]: 409,
  [AuthError.InvalidField]: 400,
};

/**
 * The two 401 messages (auth.md): what is wrong with the credential, never
 * anything about the object asked for. Under /astakos they are the fault's
 * `message`; Almanach keeps its reference body `Unauthorized` (the global
 * filter, almanach-v1.md 4). Here, not beside AccessGuard, so that code the
 * worker and the collector load (AlmanachRepository) names them without
 * loading the decorators' OpenAPI code (architecture.e2e).
 */
export const TOKEN_MISSING = 'No X-Auth-Token header: this call needs a token';
export const TOKEN_UNKNOWN = 'The X-Auth-Token is not a known token (never issued, or revoked)';
