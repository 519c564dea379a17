import { Role } from './api-token.entity';

/** Who is calling, as resolved from X-Auth-Token (auth.md). */
export interface Principal {
  /** Token id; `bootstrap` for ADMIN_TOKEN. */
  tokenId: string;
  /** Token name; commissions are owned by it (quotas.md 5.8). */
  name: string;
  role: Role;
  userId: string | null;
  readonly projectIds: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** AMIE site name, set by the site-key check. */
    siteName?: string;
    /** The hash of a site key taken from memory, which the handler's write must check (AccessRule `checkedByWrite`). */
    siteKeyToCheck?: string;
    /**
     * The hash of a token AccessGuard took from memory (AccessRule
     * `checkedByStatement`): the handler's statement confirms it and clears
     * this; TokenCheckHook confirms whatever is left before the answer leaves.
     */
    tokenToCheck?: string;
    /** The hash of a token taken from memory that the handler's statement found gone: TokenCheckHook forgets it. */
    tokenRevoked?: string;
    /** Set by AccessGuard once the route's rule has let the call through; app-wide guards after it read it. */
    accessChecked?: boolean;
  }
}

/** A `user` token sees only its own projects; every other role sees all. */
export function canSeeProject(principal: Principal, projectId: string): boolean {
  return principal.role !== 'user' || principal.projectIds.includes(projectId);
}

/** The service itself reading on its own behalf (the worker's budget figures): sees every project. */
export const SYSTEM_PRINCIPAL: Principal = Object.freeze({ tokenId: 'system', name: 'system', role: 'admin', userId: null, projectIds: [] as string[] }) as Principal;
