import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { UsageBatchRepository } from './usage-batch.repository';
import { UsageFailedRecordRepository } from './usage-failed-record.repository';
import { UsageLoaderService } from './usage-loader.service';
import { UsageRecordRepository } from './usage-record.repository';
import { UsageProcessor } from './usage.processor';

/** Loading of accepted batches: the worker process's part, also run in the API without Redis. */
@Module({
  imports: [QueueModule],
  providers: [UsageBatchRepository, UsageRecordRepository, UsageFailedRecordRepository, UsageLoaderService, UsageProcessor],
  exports: [UsageBatchRepository, UsageRecordRepository, UsageFailedRecordRepository, UsageLoaderService, QueueModule],
})
export class UsageProcessingModule {}
