import { SetMetadata } from '@nestjs/common';
import { Role } from './api-token.entity';

export const ACCESS_KEY = 'usage-ledger:access';

export type AccessRule =
  /** No credential at all (Almanach /info, astakos resources and discovery). */
  | { kind: 'public' }
  /** X-Auth-Token with one of these roles. */
  | { kind: 'token'; roles: readonly Role[] }
  /** AMIE XA-Site/XA-API-Key; X-Auth-Token is ignored (auth.md). */
  | { kind: 'site' };

/** Declares who may call a handler (or every handler of a controller). */
export const Access = (rule: AccessRule) => SetMetadata(ACCESS_KEY, rule);
export const Public = () => Access({ kind: 'public' });
export const Roles = (...roles: Role[]) => Access({ kind: 'token', roles });
export const SiteKey = () => Access({ kind: 'site' });

export const ALL_ROLES: readonly Role[] = ['admin', 'service', 'reader', 'user'];
