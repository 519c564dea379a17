import { DynamicModule, Module } from '@nestjs/common';
import { AllocationQuotaLinkModule } from './allocations/quota-link/quota-link.module';
import { CoreModule } from './core.module';
import { Runtime } from './runtime';
import { UsageProcessingModule } from './usage/usage.module';

/**
 * The worker process: queue consumers only, no HTTP. Feature modules add
 * their processors here as they get queued work.
 */
@Module({})
export class WorkerModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return { module: WorkerModule, imports: [CoreModule.forRoot(runtime), UsageProcessingModule, AllocationQuotaLinkModule] };
  }
}
