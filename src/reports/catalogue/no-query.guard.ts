import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { CommonError, DomainError } from '../../http/domain-error';

/**
 * For a route that takes no query parameter (reports.md 1.1: an unknown
 * query parameter is a `400`, `<name>: not a known parameter`). A guard, so
 * it runs after the credential check (401/403 first) and the OpenAPI
 * document declares no query for the route.
 */
@Injectable()
export class NoQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const query = context.switchToHttp().getRequest<FastifyRequest>().query;
    const names = query && typeof query === 'object' ? Object.keys(query) : [];
    if (names.length === 0) return true;
    const fields = Object.fromEntries(names.map((name) => [name, 'not a known parameter']));
    throw new DomainError(CommonError.Validation, `${names[0]}: not a known parameter`, { fields });
  }
}
