import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyRequest } from 'fastify';

/**
 * A token AccessGuard took from memory on a `checkedByStatement` route
 * (`request.tokenToCheck`), handed to the statement that confirms it:
 * `hash` goes into the statement (tokenStoredSql), and `confirmed()` is
 * called once the statement found it stored, so TokenCheckHook has nothing
 * left to look up for this request.
 */
export interface StatementCredential {
  readonly hash: string;
  confirmed(): void;
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
  };
});
