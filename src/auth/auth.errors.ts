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
