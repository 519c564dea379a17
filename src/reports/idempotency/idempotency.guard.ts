import { CanActivate, ExecutionContext, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'pino';
import { LOGGER } from '../../core/tokens';
import { IdempotencyClaim, IdempotencyService } from './idempotency.service';

declare module 'fastify' {
  interface FastifyRequest {
    /** The Idempotency-Key this call owns; its answer is stored in onSend. */
    idempotencyClaim?: IdempotencyClaim;
  }
}

/** reports.md 1.8: every POST under these route prefixes takes an Idempotency-Key. */
const IDEMPOTENT_PREFIXES = ['/reports/', '/admin/reports/'];

export function isIdempotentRoute(method: string, routeUrl: string | undefined): boolean {
  return method === 'POST' && routeUrl !== undefined && IDEMPOTENT_PREFIXES.some((prefix) => routeUrl.startsWith(prefix));
}

/**
 * `Idempotency-Key` on the reports' writes (reports.md 1.8), for every POST
 * route under /reports and /admin/reports, present and future: an app-wide
 * guard (APP_GUARD of IdempotencyModule) that looks at the route, so a new
 * route cannot forget it; `@ApiIdempotencyKey()` documents the header on
 * each. It runs after the access guard (the key is scoped to the token's
 * name: AccessGuard's APP_GUARD is registered first, and a claim without a
 * checked credential is refused as a programming error) and before the
 * validation pipe, so a 400 of the body is kept like any 4xx. A replay is
 * thrown as a StoredAnswer for the global filter. The answer is read where
 * it leaves, in a Fastify onSend hook: only there are the global filter's
 * error bodies and the Location header visible.
 *
 * A guard, not an interceptor: any app-wide interceptor makes Nest wrap
 * every request of every route in RxJS observables and three
 * `AsyncResource.bind`s (each with two deprecation wrappers on Node 20).
 * Measured on /v1/info (docs/architecture.md, "Request path: no app-wide
 * interceptor"): 45 % of the API's CPU per request and half its garbage.
 */
@Injectable()
export class IdempotencyGuard implements CanActivate, OnModuleInit {
  private readonly log: Logger;

  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly adapter: HttpAdapterHost,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'idempotency' });
  }

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const claim = request.idempotencyClaim;
      if (!claim) return payload;
      request.idempotencyClaim = undefined;
      const header = (name: string) => {
        const value = reply.getHeader(name);
        return value === undefined ? null : String(value);
      };
      try {
        await this.idempotency.finish(claim, { status: reply.statusCode, payload, contentType: header('content-type'), location: header('location') });
      } catch (error) {
        // The key stays pending; a repeat takes it over after the lease.
        this.log.warn({ err: { message: (error as Error).message }, key: claim.key }, 'idempotency answer not stored');
      }
      return payload;
    });
  }

  /** Synchronous for every other route: no promise on their path. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!isIdempotentRoute(request.method, request.routeOptions?.url)) return true;
    const key = this.idempotency.keyOf(request.headers['idempotency-key']);
    if (key === undefined) return true;
    if (!request.accessChecked) throw new Error('IdempotencyGuard ran before AccessGuard: the key could not be scoped to a credential');
    const principal = request.principal;
    if (!principal) return true;
    return this.idempotency.begin(principal.name, key, request.method, request.url, request.body).then((claim) => {
      request.idempotencyClaim = claim;
      return true;
    });
  }
}
