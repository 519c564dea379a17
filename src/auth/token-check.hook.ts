import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderErrorBody } from '../http/error-renderers';
import { mountOf } from '../http/mounts';
import { TOKEN_UNKNOWN } from './access.guard';
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
      // Almanach's 401 body is fixed (almanach-v1.md 4), as the global filter writes it.
      const message = status === 503 ? 'Service unavailable' : mount === 'almanach' ? 'Unauthorized' : TOKEN_UNKNOWN;
      void reply.code(status).header('Content-Type', 'application/json; charset=utf-8').removeHeader('Location');
      return JSON.stringify(renderErrorBody(mount, status, message));
    });
  }
}
