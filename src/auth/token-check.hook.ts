import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONNECTION_LOST_MESSAGE, RETRY_AFTER_SECONDS } from '../http/connection-loss';
import { ALMANACH_UNAUTHORIZED, renderErrorBody } from '../http/error-renderers';
import { mountOf } from '../http/mounts';
import { TOKEN_UNKNOWN } from './auth.errors';
import { AuthService } from './auth.service';

/**
 * The other half of AccessRule `checkedByStatement`: an answer that leaves
 * with a token taken from memory still unconfirmed (an error thrown before
 * the handler's statement ran: a 400 of the query, a 403 of the role or the
 * project) first looks the token up, and becomes the 401 of a revoked token
 * when it is gone. So such a token gets nothing but 401 once revoked, as
 * with a look-up on every request (auth.md: "stops working at once").
 */
@Injectable()
export class TokenCheckHook implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly auth: AuthService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (request.tokenRevoked !== undefined) this.auth.forgetToken(request.tokenRevoked);
      const hash = request.tokenToCheck;
      if (hash === undefined) return payload;
      request.tokenToCheck = undefined;
      let status = 401;
      try {
        if (await this.auth.tokenStillStored(hash)) return payload;
      } catch (error) {
        request.log.warn({ err: { message: (error as Error).message } }, 'token not confirmed: database unavailable');
        status = 503;
      }
      const mount = mountOf(request.url);
      // The answer that was to leave is replaced whole: none of its headers may describe the new one.
      for (const name of ['location', 'retry-after', 'allow', 'idempotent-replayed']) reply.removeHeader(name);
      if (payload !== null && typeof payload === 'object' && typeof (payload as { destroy?: unknown }).destroy === 'function') (payload as { destroy(): void }).destroy();
      // The same bodies as the global filter's: Almanach's fixed 401 (almanach-v1.md 4), its 503 of a lost database.
      const message = status === 503 ? CONNECTION_LOST_MESSAGE : mount === 'almanach' ? ALMANACH_UNAUTHORIZED : TOKEN_UNKNOWN;
      if (status === 503) void reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
      void reply.code(status).header('Content-Type', 'application/json; charset=utf-8');
      return JSON.stringify(renderErrorBody(mount, status, message));
    });
  }
}
