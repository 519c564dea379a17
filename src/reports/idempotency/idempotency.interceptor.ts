import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'pino';
import { Observable } from 'rxjs';
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
 * interceptor (APP_INTERCEPTOR of IdempotencyModule) that looks at the
 * route, so a new route cannot forget it; `@ApiIdempotencyKey()` documents
 * the header on each. It runs after the access guard (the key is scoped to
 * the token's name) and before the validation pipe, so a 400 of the body is
 * kept like any 4xx. The answer is read where it leaves, in a Fastify onSend
 * hook: only there are the global filter's error bodies and the Location
 * header visible.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor, OnModuleInit {
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

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!isIdempotentRoute(request.method, request.routeOptions?.url)) return next.handle();
    const key = this.idempotency.keyOf(request.headers['idempotency-key']);
    const principal = request.principal;
    if (key === undefined || !principal) return next.handle();
    request.idempotencyClaim = await this.idempotency.begin(principal.name, key, request.method, request.url, request.body);
    return next.handle();
  }
}
