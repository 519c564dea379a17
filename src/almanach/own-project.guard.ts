import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthError } from '../auth/auth.errors';
import { canSeeProject } from '../auth/principal';
import { DomainError } from '../http/domain-error';

/**
 * A `user` token lists only its own projects (almanach-v1.md 8.2): another
 * project is 403 before the query is even read, so a malformed listing of a
 * foreign project answers 403 too. Runs after the global AccessGuard, which
 * sets the principal.
 */
@Injectable()
export class OwnProjectGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const projectId = (request.params as Record<string, string | undefined>).project_id;
    if (!request.principal || projectId === undefined || !canSeeProject(request.principal, projectId)) {
      throw new DomainError(AuthError.Forbidden, 'Forbidden');
    }
    return true;
  }
}
