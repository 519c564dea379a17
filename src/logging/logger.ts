import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { LogLevel } from '../config/env.schema';

/**
 * One JSON logger per process, shared by Fastify (request logs carry `reqId`)
 * and Nest. Credentials travel only in headers, and request logs never print
 * headers; the redact list is a second line of defence should a serializer
 * ever add them.
 */
export function createRootLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
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
  };
  // Without a destination, stdout (processes); the tests pass a buffer of their own.
  return destination ? pino(options, destination) : pino(options);
}

/** Nest's start-up chatter: module and route wiring, logged at debug. */
const WIRING_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Nest's LoggerService on top of the root JSON logger. */
export class JsonNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, context?: string) {
    // Nest announces every module and route it wires (hundreds of lines per
    // start): useful when debugging the wiring, noise otherwise.
    if (context !== undefined && WIRING_CONTEXTS.has(context)) this.root.debug({ context }, String(message));
    else this.root.info({ context }, String(message));
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
