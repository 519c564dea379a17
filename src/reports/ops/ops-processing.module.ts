import { Module } from '@nestjs/common';
import { QueueModule } from '../../queue/queue.module';
import { OpsCountersModule } from './ops-counters.module';
import { OpsLoops } from './ops-loops.service';

/**
 * The processing side of §9: queue samples and the notifications freshness
 * copy. The worker imports it; so does the API, where its loops run only
 * with the in-process queue.
 */
@Module({
  imports: [QueueModule, OpsCountersModule],
  providers: [OpsLoops],
  exports: [OpsCountersModule, OpsLoops],
})
export class OpsProcessingModule {}
