import { STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import { renderErrorBody } from './error-renderers';
import { mountOf } from './mounts';

/** Fastify's `maxParamLength`: quota resource names may be 255 characters (quotas.md 6), and Fastify's default of 100 answers 414. */
export const MAX_PARAM_LENGTH = 1024;

/** How long a refused connection may take to deliver the answer before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

interface ClientError extends Error {
  code?: string;
  /** The bytes Node's HTTP parser had read when it gave up. */
  rawPacket?: unknown;
}

/**
 * Fastify's `clientErrorHandler`: the answer to a request Node's HTTP parser
 * refused (a malformed request line or header, a NUL in a header value:
 * `400`; headers over the size limit: `431`; a request that took too long:
 * `408`). The connection cannot carry another request, so the answer says
 * `Connection: close`: a keep-alive client then opens a new connection for
 * its next request instead of failing it. The body is in the shape of the
 * mount named by the request line, when the parser read that far.
 */
export function clientErrorHandler(error: ClientError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431 ? 'Request header fields are too large' : status === 408 ? 'Request timed out' : 'Malformed HTTP request';
  const body = JSON.stringify(renderErrorBody(mountOf(requestPath(error.rawPacket)), status, message));
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  // Discard what the client is still sending, so that closing does not reset
  // the connection before the client has read the answer; then close for good.
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function requestPath(raw: unknown): string {
  const line = Buffer.isBuffer(raw) ? raw.subarray(0, 8192).toString('latin1') : '';
  return /^[A-Z]+ (\/\S*)/.exec(line)?.[1] ?? '/';
}

/**
 * Fastify's `frameworkErrors`: errors its router raises before any route,
 * hook or Nest filter runs — a path that is not valid percent-encoding
 * (`400`), a path parameter over `maxParamLength` (`414`). Answered in the
 * shape of the request's mount like every other error, never in Fastify's own.
 */
export function frameworkErrorHandler(
  error: Error & { code?: string; statusCode?: number },
  request: { url: string },
  reply: { code(status: number): { header(name: string, value: string): { send(body: string): unknown } } },
): void {
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : (error.statusCode ?? 400);
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'The request path is not valid percent-encoding'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? `A path parameter is longer than ${MAX_PARAM_LENGTH} characters`
        : 'Bad request';
  const body = JSON.stringify(renderErrorBody(mountOf(request.url), status, message));
  reply.code(status).header('Content-Type', 'application/json; charset=utf-8').send(body);
}
