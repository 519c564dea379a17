import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FastifyRequest } from 'fastify';
import { DomainError } from '../http/domain-error';
import { ACCESS_KEY, AccessRule } from './auth.decorators';
import { AuthError, TOKEN_MISSING, TOKEN_UNKNOWN } from './auth.errors';
import { AuthService } from './auth.service';


/**
 * The one credential check for every route (auth.md). Each handler or
 * controller declares its rule with @Public, @Roles or @SiteKey; a route that
 * declares nothing is refused, so a forgotten decorator fails closed.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!rule) throw new DomainError(AuthError.Forbidden, 'Forbidden');
    if (rule.kind === 'public') return (request.accessChecked = true);
    if (rule.kind === 'site') {
      const [siteName, key] = [header(request, 'xa-site'), header(request, 'xa-api-key')];
      if (rule.checkedByWrite) {
        const { site, keyHash } = await this.auth.authenticateSiteForWrite(siteName, key);
        request.siteName = site;
        if (keyHash !== null) request.siteKeyToCheck = keyHash;
      } else {
        request.siteName = await this.auth.authenticateSite(siteName, key);
      }
      return (request.accessChecked = true);
    }
    const token = header(request, 'x-auth-token');
    const { principal, hash } = rule.checkedByStatement ? await this.auth.authenticateTokenForStatement(token) : { principal: await this.auth.authenticateToken(token), hash: null };
    if (!principal) throw new DomainError(AuthError.Unauthorized, token === undefined ? TOKEN_MISSING : TOKEN_UNKNOWN);
    request.principal = principal;
    if (hash !== null) request.tokenToCheck = hash;
    if (!rule.roles.includes(principal.role)) throw new DomainError(AuthError.Forbidden, 'Forbidden');
    return (request.accessChecked = true);
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text?.trim() ? text.trim() : undefined;
}
