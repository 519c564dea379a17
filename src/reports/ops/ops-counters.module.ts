import { Module } from '@nestjs/common';
import { MetricCounts } from './metric-counts.service';
import { OpsRepository } from './ops.repository';

/** The deployment-total counters (reports.md §9.1): what every process that does counted work imports. */
@Module({
  providers: [OpsRepository, MetricCounts],
  exports: [OpsRepository, MetricCounts],
})
export class OpsCountersModule {}
