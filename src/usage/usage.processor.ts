import { Injectable, OnModuleInit } from '@nestjs/common';
import { JobQueueService } from '../queue/job-queue.service';
import { UsageLoaderService } from './usage-loader.service';

/** Consumes `usage.load-batch` jobs (BullMQ worker, or in-process without Redis). */
@Injectable()
export class UsageProcessor implements OnModuleInit {
  constructor(
    private readonly jobs: JobQueueService,
    private readonly loader: UsageLoaderService,
  ) {}

  onModuleInit(): void {
    this.jobs.handle('usage.load-batch', {
      process: async ({ batchId }) => {
        await this.loader.loadBatch(batchId);
      },
      exhausted: ({ batchId }, error) => this.loader.failBatch(batchId, error),
    });
  }
}
