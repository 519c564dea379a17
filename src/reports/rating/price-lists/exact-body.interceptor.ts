import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { CommonError, DomainError } from '../../../http/domain-error';
import { parseExactJson } from './exact-json';

/**
 * Re-reads a JSON write body from its raw text with numbers kept as their
 * text (reports.md 1.4; exact-json.ts), before the validation pipe sees it.
 * Interceptors run after the guards and the app-wide idempotency
 * interceptor (which keys on the body as parsed) and before the pipes.
 */
@Injectable()
export class ExactBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.bodyKind === 'json' && typeof request.rawBody === 'string' && request.body !== undefined) {
      try {
        request.body = parseExactJson(request.rawBody);
      } catch {
        throw new DomainError(CommonError.InvalidJson, 'Request body is not valid JSON');
      }
    }
    return next.handle();
  }
}
