import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/env.schema';
import { JsonNestLogger, createRootLogger } from './logging/logger';
import { JobQueueService } from './queue/job-queue.service';
import { Runtime } from './runtime';
import { WorkerModule } from './worker.module';

/**
 * `npm run start:worker`: consumes the BullMQ queues. Any number of workers
 * may run, on any number of machines, against the same Redis and PostgreSQL.
 */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`usage-ledger worker: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createRootLogger(config.logLevel);
  if (config.inProcessQueue) {
    log.info('REDIS_URL is unset: queued work runs inside the API process (npm start); this worker has nothing to do');
    return;
  }
  const runtime = await Runtime.open(config, log, { runMigrations: true });
  const context = await NestFactory.createApplicationContext(WorkerModule.forRoot(runtime), {
    logger: new JsonNestLogger(log),
    abortOnError: false,
  });
  await context.init();
  context.get(JobQueueService).startWorker();
  log.info({ prefix: config.queuePrefix }, 'worker ready');
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'worker shutting down');
    await context.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`usage-ledger worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
