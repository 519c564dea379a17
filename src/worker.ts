import 'reflect-metadata';
import { utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { configOrExit, exitOnSignal, exitOnStartFailure } from './entry';
import { JsonNestLogger, createRootLogger } from './logging/logger';
import { JobQueueService } from './queue/job-queue.service';
import { Runtime } from './runtime';
import { WorkerModule } from './worker.module';

/**
 * `npm run start:worker`: consumes the BullMQ queues. Any number of workers
 * may run, on any number of machines, against the same Redis and PostgreSQL.
 */
async function main(): Promise<void> {
  const config = configOrExit('usage-ledger worker');
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
  const heartbeat = startHeartbeat(runtime);
  exitOnSignal(log, 'worker shutting down', async () => {
    clearInterval(heartbeat);
    await context.close();
    await runtime.close();
  });
}

/**
 * Touches a file every 10 s while Redis answers, for container health checks
 * (docker-compose.yml reads its age): a worker that lost Redis or hangs goes
 * unhealthy.
 */
function startHeartbeat(runtime: Runtime): NodeJS.Timeout {
  const file = join(tmpdir(), 'usage-ledger-worker.heartbeat');
  const beat = async () => {
    try {
      await runtime.queue.redis?.ping();
      const now = new Date();
      try {
        utimesSync(file, now, now);
      } catch {
        writeFileSync(file, '');
      }
    } catch (error) {
      runtime.log.warn({ err: { message: (error as Error).message } }, 'worker heartbeat: redis did not answer');
    }
  };
  void beat();
  return setInterval(() => void beat(), 10_000);
}

main().catch((error: unknown) => exitOnStartFailure('usage-ledger worker', error));
