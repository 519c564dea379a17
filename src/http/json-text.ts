import { FastifyReply } from 'fastify';

/**
 * An answer whose JSON text PostgreSQL wrote (the usage report's page, an
 * Almanach window listing), sent as it is: its content type set here, since
 * Fastify types a string as text/plain. For a route that takes the reply
 * with `@Res({ passthrough: true })`.
 */
export function jsonText(reply: FastifyReply, json: string): string {
  void reply.type('application/json; charset=utf-8');
  return json;
}
