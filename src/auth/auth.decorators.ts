import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { ANONYMOUS_EXTENSION } from '../http/openapi';
import { Role } from './api-token.entity';

export const ACCESS_KEY = 'usage-ledger:access';

export type AccessRule =
  /** No credential at all (Almanach /info, astakos resources and discovery). */
  | { kind: 'public' }
  /**
   * X-Auth-Token with one of these roles. With `checkedByStatement`, a token
   * this process has already found stored is taken from memory without a
   * query, and the handler's statement must confirm it is still stored
   * (`request.tokenToCheck`, AuthService.authenticateTokenForStatement);
   * whatever answer leaves unconfirmed is confirmed first (TokenCheckHook).
   */
  | { kind: 'token'; roles: readonly Role[]; checkedByStatement?: boolean }
  /**
   * AMIE XA-Site/XA-API-Key; X-Auth-Token is ignored (auth.md). With
   * `checkedByWrite`, a key this process last found current is taken without
   * a query, and the handler's write must hold it to the database
   * (`request.siteKeyToCheck`, AuthService.authenticateSiteForWrite).
   */
  | { kind: 'site'; checkedByWrite?: boolean };

/** Declares who may call a handler (or every handler of a controller). */
export const Access = (rule: AccessRule) => SetMetadata(ACCESS_KEY, rule);
/** No credential; the OpenAPI document marks the operation anonymous (`security: []`). */
export const Public = () => applyDecorators(Access({ kind: 'public' }), ApiExtension(ANONYMOUS_EXTENSION, true));
export const Roles = (...roles: Role[]) => Access({ kind: 'token', roles });
/** Roles, for a route whose statement confirms the token (see AccessRule): the Almanach listings and entity writes. */
export const RolesCheckedByStatement = (...roles: Role[]) => Access({ kind: 'token', roles, checkedByStatement: true });
export const SiteKey = (options: { checkedByWrite?: boolean } = {}) => Access({ kind: 'site', ...options });

export const ALL_ROLES: readonly Role[] = ['admin', 'service', 'reader', 'user'];
