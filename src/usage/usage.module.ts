import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { UsageBatchRepository } from './usage-batch.repository';
import { UsageFailedRecordRepository } from './usage-failed-record.repository';
import { UsageLoaderService } from './usage-loader.service';
import { UsageRecordRepository } from './usage-record.repository';
import { UsageSweeperService } from './usage-sweeper.service';
import { UsageController } from './usage.controller';
import { UsageProcessor } from './usage.processor';
import { UsageService } from './usage.service';

/** Loading of accepted batches: the worker process's part, also run in the API without Redis. */
@Module({
  imports: [QueueModule],
  providers: [UsageBatchRepository, UsageRecordRepository, UsageFailedRecordRepository, UsageLoaderService, UsageProcessor],
  exports: [UsageBatchRepository, UsageRecordRepository, UsageFailedRecordRepository, UsageLoaderService, QueueModule],
})
export class UsageProcessingModule {}

/** AMIE usage API (/amie) with its sweeper. */
@Module({
  imports: [UsageProcessingModule],
  controllers: [UsageController],
  providers: [UsageService, UsageSweeperService],
  exports: [UsageService],
})
export class UsageModule {}
