import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { ERROR_STATUS } from './composition';
import { registerBodyParsers, registerBodyPolicy } from './http/body-parsers';
import { clientErrorHandler, frameworkErrorHandler, MAX_PARAM_LENGTH } from './http/client-errors';
import { GlobalExceptionFilter } from './http/global-exception.filter';
import { registerInputGuard } from './http/input-guard';
import { registerAsciiJson } from './http/ascii-json';
import { setupOpenApi } from './http/openapi-document';
import { RouteTable } from './http/route-table';
import { DtoValidationPipe } from './http/validation.pipe';
import { JsonNestLogger } from './logging/logger';
import { CoreResources } from './core/core.module';
import { SERVICE_VERSION } from './version';

export const BODY_LIMIT = 1048576;

/**
 * Builds the whole API on one Fastify instance with the service-wide options
 * of spec/README.md ("One service, one configuration"). Used by main.ts, the
 * e2e tests and the bench, so all three run exactly the same application.
 */
export async function createApp(runtime: CoreResources): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: runtime.log,
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    trustProxy: runtime.config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // 400 from the HTTP parser and 431 say Connection: close (src/http/client-errors.ts).
    clientErrorHandler,
    // Router errors (bad percent-encoding, over-long parameter) in the mount's shape too.
    frameworkErrors: frameworkErrorHandler as never,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(runtime), adapter, {
    bodyParser: false,
    logger: new JsonNestLogger(runtime.log),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  const routes = new RouteTable();
  fastify.addHook('onRoute', (route) => routes.add(route.url, route.method));
  registerBodyParsers(fastify);
  registerBodyPolicy(fastify);
  registerInputGuard(fastify);
  registerAsciiJson(fastify);
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
  });
  app.useGlobalFilters(new GlobalExceptionFilter(routes, ERROR_STATUS));
  app.useGlobalPipes(new DtoValidationPipe());

  setupOpenApi(app, {
    title: 'usage-ledger',
    description: 'Almanach v1, AMIE usage, Astakos quotas and Nectar allocations in one service.',
    version: SERVICE_VERSION,
  });

  await app.init();
  await fastify.ready();
  return app;
}
