import { Module } from '@nestjs/common';
import { QueueModule } from '../../queue/queue.module';
import { UsageProcessingModule } from '../../usage/usage-processing.module';
import { AmieLoadCounter } from './amie-load-counter.service';
import { OpsCountersModule } from './ops-counters.module';
import { OpsLoops } from './ops-loops.service';

/**
 * The processing side of §9: queue samples, the notifications freshness
 * copy, and the AMIE load counts (AmieLoadCounter, on the usage module's
 * load hook). The worker imports it; so does the API, where its loops run only
 * with the in-process queue.
 */
@Module({
  imports: [QueueModule, OpsCountersModule, UsageProcessingModule],
  providers: [OpsLoops, AmieLoadCounter],
  exports: [OpsCountersModule, OpsLoops],
})
export class OpsProcessingModule {}
