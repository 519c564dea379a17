import 'reflect-metadata';
import { createApp } from './app.factory';
import { configOrExit, exitOnSignal, exitOnStartFailure } from './entry';
import { createRootLogger } from './logging/logger';
import { Runtime } from './runtime';

async function main(): Promise<void> {
  const config = configOrExit('usage-ledger');
  config.assertExportsFitPool();
  const log = createRootLogger(config.logLevel);
  const runtime = await Runtime.open(config, log, { runMigrations: true });
  const app = await createApp(runtime);
  exitOnSignal(log, 'shutting down', async () => {
    await app.close();
    await runtime.close();
  });
  try {
    // Fastify's listen, not Nest's app.listen: Nest logs a failed listen as an
    // error line of its own before rejecting, and a taken port must print one
    // line (below), not two. Nest's close() still closes the server.
    await app.getHttpAdapter().getInstance().listen({ port: config.port, host: config.host });
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

main().catch((error: unknown) => exitOnStartFailure('usage-ledger', error));
