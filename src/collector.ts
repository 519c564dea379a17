import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { CollectorRunner } from './collector/collector-runner';
import { CollectorModule } from './collector/collector.module';
import { ENTITIES } from './composition';
import { CoreModule } from './core/core.module';
import { openDatabase } from './database/data-source';
import { configOrExit, exitOnSignal, exitOnStartFailure } from './entry';
import { createRootLogger, JsonNestLogger } from './logging/logger';
import { QueueRuntime } from './queue/queue-runtime';

/**
 * `npm run start:collector` (collector.md 1.1): reads Nova and Cinder
 * notifications from RabbitMQ into Almanach history. Needs DATABASE_URL and
 * NOTIFICATIONS_URL; not Redis.
 */
async function main(): Promise<void> {
  const config = configOrExit('usage-ledger collector');
  if (!config.notificationsUrl) {
    process.stderr.write('usage-ledger collector: NOTIFICATIONS_URL is not set; the OpenStack notification collector is disabled\n');
    process.exit(2);
  }
  const log = createRootLogger(config.logLevel);
  if (config.embeddedDatabase) {
    log.info('DATABASE_URL is unset: the API process (npm start) runs the collector on the embedded database; this process has nothing to do');
    process.stderr.write('usage-ledger collector: DATABASE_URL is unset, so the API process (npm start) runs the collector; nothing to do here\n');
    return;
  }
  const database = await openDatabase(config, { entities: ENTITIES, runMigrations: true, poolSize: config.notificationsPrefetch + 2, log });
  log.info({ database: database.description }, `database: ${database.description}`);
  // The collector queues no jobs: it gets the in-process stand-in and never touches Redis.
  const queue: QueueRuntime = { mode: 'in-process', description: 'none (the collector queues no jobs)', async close() {} };
  const context = await NestFactory.createApplicationContext(
    { module: class CollectorProcessModule {}, imports: [CoreModule.forRoot({ config, dataSource: database.dataSource, log, queue }, []), CollectorModule] },
    { logger: new JsonNestLogger(log), abortOnError: false },
  );
  await context.init();
  await context.get(CollectorRunner).start();
  exitOnSignal(log, 'collector shutting down', async () => {
    await context.close();
    await database.close();
  });
}

main().catch((error: unknown) => exitOnStartFailure('usage-ledger collector', error));
