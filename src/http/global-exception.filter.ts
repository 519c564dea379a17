import { ArgumentsHost, Catch, ExceptionFilter, HttpException, NotFoundException } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { CONNECTION_LOST_MESSAGE, isConnectionLoss, RETRY_AFTER_SECONDS } from './connection-loss';
import { DomainError, DomainErrorExtra } from './domain-error';
import { ALMANACH_UNAUTHORIZED, renderErrorBody } from './error-renderers';
import { mountOf } from './mounts';
import { RouteTable } from './route-table';
import { StoredAnswer } from './stored-answer';

const FASTIFY_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  413: 'Request body is larger than 1048576 bytes',
  415: 'Unsupported content type',
};

/**
 * The one global filter (spec/README.md, "Errors: one global filter, chosen by
 * mount"). It sees handler errors, body-parser errors, 413, 415 and unknown
 * paths alike, and renders each in the shape of the request's mount.
 * Anything unexpected is a bare 500 whose details go only to the log.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly routes: RouteTable,
    /** Error code → status, gathered by the composition root from every feature. */
    private readonly errorStatus: Record<string, number>,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof StoredAnswer) {
      void reply.status(exception.status).headers(exception.headers).send(exception.payload);
      return;
    }
    const mount = mountOf(request.url);
    let { status, message, extra } = this.describe(exception, request);

    // Fastify answers 404 for a known path asked with another method.
    if (status === 404 && exception instanceof NotFoundException) {
      const allow = this.routes.allowedMethods(request.url);
      if (allow.length > 0) {
        status = 405;
        message = `Method ${request.method} is not allowed on ${request.url.split('?', 1)[0]}; allowed: ${allow.join(', ')}`;
        extra = { ...extra, allow };
      } else {
        message = `No route for ${request.method} ${request.url.split('?', 1)[0]}`;
      }
    }
    if (status === 503) {
      request.log.warn({ err: exception }, 'dependency unavailable');
      void reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
      extra = {};
    } else if (status >= 500) {
      request.log.error({ err: exception }, 'unhandled error');
      message = 'Internal server error';
      extra = {};
    }
    // Almanach's reference answered a malformed body with this wording (almanach-v1.md 4).
    if (mount === 'almanach' && status === 400 && !(exception instanceof DomainError && exception.code.startsWith('almanach.'))) {
      message = 'Invalid parameter or payload';
    }
    // Almanach's 401 body is fixed as `{"error": "Unauthorized"}` (almanach-v1.md 4,
    // "reference wording; keep it"); the other mounts say what is wrong with the credential.
    if (mount === 'almanach' && status === 401) message = ALMANACH_UNAUTHORIZED;
    if (extra.allow) void reply.header('Allow', extra.allow.join(', '));
    if (extra.retryAfter !== undefined) void reply.header('Retry-After', String(extra.retryAfter));
    // The rest of an over-long body is never read: the connection cannot carry another request.
    if (status === 413) void reply.header('Connection', 'close');
    const body = JSON.stringify(renderErrorBody(mount, status, message, extra));
    void reply.status(status).header('Content-Type', 'application/json; charset=utf-8').send(body);
  }

  private describe(exception: unknown, request: FastifyRequest): { status: number; message: string; extra: DomainErrorExtra } {
    if (exception instanceof DomainError) {
      const status = this.errorStatus[exception.code];
      if (status === undefined) {
        request.log.error({ code: exception.code }, 'domain error code without an HTTP status');
        return { status: 500, message: 'Internal server error', extra: {} };
      }
      return { status, message: exception.message, extra: exception.extra };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, message: FASTIFY_MESSAGES[status] ?? exception.message, extra: {} };
    }
    const fastifyStatus = (exception as { statusCode?: unknown })?.statusCode;
    if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
      return {
        status: fastifyStatus,
        message: FASTIFY_MESSAGES[fastifyStatus] ?? (exception as Error).message ?? 'Bad request',
        extra: {},
      };
    }
    // The database went away under the request (restart, failover, pg_terminate_backend):
    // the pool replaces the connection, so the client may simply retry.
    if (isConnectionLoss(exception)) return { status: 503, message: CONNECTION_LOST_MESSAGE, extra: {} };
    return { status: 500, message: 'Internal server error', extra: {} };
  }
}
