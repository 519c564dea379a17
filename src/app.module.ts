import { DynamicModule, Module } from '@nestjs/common';
import { AllocationsModule } from './allocations/allocations.module';
import { AlmanachModule } from './almanach/almanach.module';
import { AuthModule } from './auth/auth.module';
import { CoreModule } from './core.module';
import { HealthModule } from './health/health.module';
import { QuotasModule } from './quotas/quotas.module';
import { Runtime } from './runtime';
import { UsageModule } from './usage/usage.module';

@Module({})
export class AppModule {
  static forRoot(runtime: Runtime): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(runtime), AuthModule, HealthModule, AlmanachModule, UsageModule, QuotasModule, AllocationsModule],
    };
  }
}
