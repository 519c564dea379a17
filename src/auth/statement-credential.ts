import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyRequest } from 'fastify';

/**
 * A token AccessGuard took from memory on a `checkedByStatement` route
 * (`request.tokenToCheck`), handed to the statement that confirms it:
 * `hash` goes into the statement (tokenStoredSql), and the statement's
 * caller says what it found: `confirmed()` (stored: TokenCheckHook has
 * nothing left to look up) or `revoked()` (gone: the hook forgets it
 * without a second look-up, and the answer is the caller's 401).
 */
export interface StatementCredential {
  readonly hash: string;
  confirmed(): void;
  revoked(): void;
}

/** The request's StatementCredential; undefined when the guard looked the token up already (or none was needed). */
export const CredentialForStatement = createParamDecorator((_data: unknown, context: ExecutionContext): StatementCredential | undefined => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const hash = request.tokenToCheck;
  if (hash === undefined) return undefined;
  return {
    hash,
    confirmed: () => {
      if (request.tokenToCheck === hash) request.tokenToCheck = undefined;
    },
    revoked: () => {
      if (request.tokenToCheck === hash) request.tokenToCheck = undefined;
      request.tokenRevoked = hash;
    },
  };
});
