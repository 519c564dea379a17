import { DynamicModule, Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from './config/app-config';
import { Runtime } from './runtime';

/** Makes the process resources injectable everywhere. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: Runtime, useValue: runtime },
        { provide: AppConfig, useValue: runtime.config },
        { provide: DataSource, useValue: runtime.dataSource },
      ],
      exports: [Runtime, AppConfig, DataSource],
    };
  }
}
