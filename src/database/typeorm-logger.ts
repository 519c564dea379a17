import { Logger as PinoLogger } from 'pino';
import { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's log lines through the process's pino logger, so they are JSON
 * lines like every other and follow LOG_LEVEL (tests run silent). Failed
 * queries are logged with their SQL text but never their parameters, which
 * may hold credentials' digests or personal data.
 */
export class PinoTypeOrmLogger implements TypeOrmLogger {
  private readonly pino: PinoLogger;

  constructor(log: PinoLogger) {
    this.pino = log.child({ component: 'database' });
  }

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    this.pino.error({ err: { message: typeof error === 'string' ? error : error.message }, query: query.slice(0, 2000) }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.pino.warn({ ms: time, query: query.slice(0, 2000) }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.pino.debug(message);
  }

  logMigration(message: string): void {
    // "executed successfully" is worth a line at start; the counting chatter is not.
    if (/executed successfully/i.test(message)) this.pino.info(message);
    else this.pino.debug(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.pino.warn(String(message));
    else this.pino.debug(String(message));
  }
}
