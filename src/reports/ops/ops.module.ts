import { Module } from '@nestjs/common';
import { QueueModule } from '../../queue/queue.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { OpsController } from './ops.controller';
import { OpsProcessingModule } from './ops-processing.module';
import { OpsService } from './ops.service';
import { SourceSeenRecorder } from './source-seen.recorder';

/** Metrics and operations views (reports.md §9) in the API process. */
@Module({
  imports: [QueueModule, OpsProcessingModule],
  controllers: [OpsController, MetricsController],
  providers: [SourceSeenRecorder, OpsService, MetricsService],
})
export class OpsModule {}
