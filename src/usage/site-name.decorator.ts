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
