import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyRequest } from 'fastify';

/**
 * The AMIE site of the request, as the site-key check of the access guard
 * (src/auth/access.guard.ts) resolved it from XA-Site/XA-API-Key. Every
 * route of this module is `@SiteKey()`, so the guard has always run.
 */
export const SiteName = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const site = context.switchToHttp().getRequest<FastifyRequest>().siteName;
  if (!site) throw new Error('SiteName used on a route without the site-key check');
  return site;
});

/**
 * The hash of the site key the guard took from memory on a
 * `@SiteKey({ checkedByWrite: true })` route (AuthService.authenticateSiteForWrite),
 * which the handler's write must hold to the database; null when the guard
 * checked it there already.
 */
export const SiteKeyToCheck = createParamDecorator((_data: unknown, context: ExecutionContext): string | null => {
  return context.switchToHttp().getRequest<FastifyRequest>().siteKeyToCheck ?? null;
});
