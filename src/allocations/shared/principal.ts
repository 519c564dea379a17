import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Principal } from '../../auth/principal';

/** The authenticated caller (set by the auth guard, which runs before every allocation route). */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<FastifyRequest>().principal!);
