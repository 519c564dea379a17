import { Module } from '@nestjs/common';
import { OpsProcessingModule } from './ops-processing.module';
import { SourceSeenRecorder } from './source-seen.recorder';

/** Metrics and operations views (reports.md §9) in the API process. */
@Module({
  imports: [OpsProcessingModule],
  providers: [SourceSeenRecorder],
})
export class OpsModule {}
