import { Logger } from 'pino';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/env.schema';

/**
 * What every process entry point (main.ts, worker.ts, collector.ts) does the
 * same way: read the configuration once, and shut down once on a signal.
 */

/** The validated configuration; a bad one stops the process with exit status 2 and a message naming every bad variable. */
export function configOrExit(processName: string): AppConfig {
  try {
    return AppConfig.fromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${processName}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** On SIGINT or SIGTERM (the first one only), logs `message`, runs `close` and exits 0. */
export function exitOnSignal(log: Logger, message: string, close: () => Promise<void>): void {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, message);
    await close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

/**
 * The end of a process whose start failed: a configuration error found once
 * the database is open (a REPORT_TIME_ZONE other than the one recorded)
 * exits 2 like any other configuration error; anything else exits 1.
 */
export function exitOnStartFailure(processName: string, error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${processName}: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${processName} failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
