import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from './config/app-config';
import { ENTITIES } from './composition';
import { openDatabase, OpenedDatabase } from './database/data-source';
import { openQueueRuntime, QueueRuntime } from './queue/queue-runtime';

/** The process-wide resources every module shares: configuration, database, queue. */
export class Runtime {
  private constructor(
    readonly config: AppConfig,
    readonly database: OpenedDatabase,
    readonly queue: QueueRuntime,
    readonly log: Logger,
  ) {}

  get dataSource(): DataSource {
    return this.database.dataSource;
  }

  /** Opens the database (applying migrations when asked) and the queue, one log line each. */
  static async open(config: AppConfig, log: Logger, options: { runMigrations: boolean }): Promise<Runtime> {
    const database = await openDatabase(config, { entities: ENTITIES, runMigrations: options.runMigrations, log });
    log.info({ database: database.description }, `database: ${database.description}`);
    let queue: QueueRuntime;
    try {
      queue = await openQueueRuntime(config, log);
    } catch (error) {
      await database.close();
      throw error;
    }
    log.info({ queue: queue.mode }, `queue: ${queue.description}`);
    return new Runtime(config, database, queue, log);
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.database.close();
  }
}
