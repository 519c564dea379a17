import { Module } from '@nestjs/common';
import { JobQueueService } from './job-queue.service';

/** The job queue (BullMQ or in-process); import it where jobs are produced or handled. */
@Module({ providers: [JobQueueService], exports: [JobQueueService] })
export class QueueModule {}
