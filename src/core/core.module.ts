import { DynamicModule, Global, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { QueueRuntime } from '../queue/queue-runtime';
import { DECLARED_JOBS, LOGGER, QUEUE_CONNECTION } from './tokens';

/** The process resources a Nest application is built on (Runtime has them all). */
export interface CoreResources {
  config: AppConfig;
  dataSource: DataSource;
  log: Logger;
  queue: QueueRuntime;
}

/**
 * Makes the process resources injectable everywhere, each under a narrow
 * token: AppConfig, DataSource, LOGGER, QUEUE_CONNECTION, DECLARED_JOBS.
 * Nothing injects the Runtime itself.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(resources: CoreResources, declaredJobs: string[]): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: AppConfig, useValue: resources.config },
        { provide: DataSource, useValue: resources.dataSource },
        { provide: LOGGER, useValue: resources.log },
        { provide: QUEUE_CONNECTION, useValue: resources.queue },
        { provide: DECLARED_JOBS, useValue: declaredJobs },
      ],
      exports: [AppConfig, DataSource, LOGGER, QUEUE_CONNECTION, DECLARED_JOBS],
    };
  }
}
