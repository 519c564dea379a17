import { Module } from '@nestjs/common';
import { QueueModule } from '../../queue/queue.module';
import { HistoryPartitionsLoop } from './history-partitions.loop';
import { HistoryPartitionsRepository } from './history-partitions.repository';

/**
 * The history's partition upkeep. The worker imports it; so does the API,
 * where its loop runs only with the in-process queue.
 */
@Module({ imports: [QueueModule], providers: [HistoryPartitionsRepository, HistoryPartitionsLoop], exports: [HistoryPartitionsRepository] })
export class HistoryPartitionsModule {}
