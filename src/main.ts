import 'reflect-metadata';
import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/env.schema';
import { createRootLogger } from './logging/logger';
import { Runtime } from './runtime';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`usage-ledger: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createRootLogger(config.logLevel);
  const runtime = await Runtime.open(config, log, { runMigrations: true });
  const app = await createApp(runtime);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      process.stderr.write(
        `usage-ledger: cannot listen on ${config.host}:${config.port} (${code === 'EADDRINUSE' ? 'the port is taken by another process' : 'permission denied'}); set PORT (or HOST) to another value\n`,
      );
      await app.close().catch(() => undefined);
      await runtime.close().catch(() => undefined);
      process.exit(1);
    }
    throw error;
  }
  log.info({ port: config.port, host: config.host }, `usage-ledger listening on http://${config.host}:${config.port}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`usage-ledger failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
