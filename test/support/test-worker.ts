import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '../../src/config/app-config';
import { JsonNestLogger, createRootLogger } from '../../src/logging/logger';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { Runtime } from '../../src/runtime';
import { WorkerModule } from '../../src/worker.module';
import { dropPrefixKeys } from './test-app';

export interface TestWorker {
  runtime: Runtime;
  /** The WorkerModule context, consuming (null until start()). */
  context: INestApplicationContext | null;
  /** Boots WorkerModule as `npm run start:worker` does and starts consuming. */
  start(): Promise<INestApplicationContext>;
  /** Closes the context (as on SIGTERM); the runtime stays open for checks. */
  stop(): Promise<void>;
  /** Stops, removes this run's queue keys and closes the runtime. */
  close(): Promise<void>;
}

/**
 * A worker process's modules in this process, on the configured database
 * (or a fresh in-memory PGlite) with a queue prefix of its own. `beforeStart`
 * work (seeding) goes between opening the runtime and start().
 */
export async function openTestWorker(overrides: Record<string, string | undefined> = {}): Promise<TestWorker> {
  const prefix = `test-worker-${randomUUID()}`;
  const config = AppConfig.fromValues({ ...process.env, DATA_DIR: 'memory://', QUEUE_PREFIX: prefix, ...overrides });
  const log = createRootLogger(config.logLevel);
  const runtime = await Runtime.open(config, log, { runMigrations: true });
  // As in test-app.ts: this suite's REPORT_TIME_ZONE and CLOUD_SITE are a first start.
  await runtime.dataSource.query(`DELETE FROM report_clock`);
  const worker: TestWorker = {
    runtime,
    context: null,
    async start() {
      const context = await NestFactory.createApplicationContext(WorkerModule.forRoot(runtime), { logger: new JsonNestLogger(log), abortOnError: false });
      await context.init();
      context.get(JobQueueService).startWorker();
      worker.context = context;
      return context;
    },
    async stop() {
      await worker.context?.close();
      worker.context = null;
    },
    async close() {
      await worker.stop();
      // Every key of this run's own prefix (BullMQ's obliterate left `events:meta`).
      if (config.queuePrefix === prefix) await dropPrefixKeys(runtime, prefix);
      await runtime.close();
    },
  };
  return worker;
}
