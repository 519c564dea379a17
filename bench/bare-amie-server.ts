import Fastify from 'fastify';
import { USAGE_MESSAGE_SCHEMA } from '../src/usage/usage-validation';

/**
 * The limit of the AMIE accept figure (issue 14): a bare Fastify server
 * whose one route validates the same bodies with Fastify's own ajv against
 * the schema the service documents (USAGE_MESSAGE_SCHEMA; the service
 * compiles a lighter form, types and structure only, and checks the values
 * of every record itself) and answers
 * the counts, storing nothing. Started as a child process by
 * bench/usage.bench.ts; prints `{"port": n}` once listening.
 */
async function main(): Promise<void> {
  // strict: false as the service's own ajv (the schema carries OpenAPI's `example` and `nullable`).
  const app = Fastify({ bodyLimit: 1_048_576, logger: false, routerOptions: { ignoreTrailingSlash: true }, ajv: { customOptions: { strict: false } } });
  app.post('/amie/usage', { schema: { body: USAGE_MESSAGE_SCHEMA } }, async (request) => {
    const n = (request.body as { Records: unknown[] }).Records.length;
    return {
      Message: `${n} records received, ${n} queued for processing, 0 failed validation`,
      ReceivedRecordCount: n,
      QueuedRecordCount: n,
      ValidationFailedRecordCount: 0,
      ValidationFailedRecords: [],
    };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`bare server failed: ${String(error)}\n`);
  process.exit(1);
});
