import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { LogLevel } from '../config/env.schema';

/**
 * One JSON logger per process, shared by Fastify (request logs carry `reqId`)
 * and Nest. Credentials travel only in headers, and request logs never print
 * headers; the redact list is a second line of defence should a serializer
 * ever add them.
 */
export function createRootLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'usage-ledger', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers["x-auth-token"]',
        'req.headers["xa-api-key"]',
        'req.headers.authorization',
        'headers["x-auth-token"]',
        'headers["xa-api-key"]',
        'token',
        'api_key',
        'password',
      ],
      censor: '[redacted]',
    },
  });
}

/** Nest's LoggerService on top of the root JSON logger. */
export class JsonNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, context?: string) {
    this.root.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.root.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.root.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.root.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.root.trace({ context }, String(message));
  }
}
