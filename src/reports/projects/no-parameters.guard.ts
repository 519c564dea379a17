import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { CommonError, DomainError } from '../../http/domain-error';

/**
 * For a route that takes no query parameter (§3.4): any parameter is a 400
 * `<name>: not a known parameter` (§1.1), every one named in `fields`. A
 * guard rather than a DTO: an empty class has no rule for the validation
 * pipe to run. It runs after the access guard, so 401/403 come first.
 */
@Injectable()
export class NoParametersGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const query = context.switchToHttp().getRequest<FastifyRequest>().query as Record<string, unknown> | undefined;
    const names = Object.keys(query ?? {});
    if (names.length === 0) return true;
    const fields = Object.fromEntries(names.map((name) => [name, 'not a known parameter']));
    throw new DomainError(CommonError.Validation, `${names[0]}: not a known parameter`, { fields });
  }
}
