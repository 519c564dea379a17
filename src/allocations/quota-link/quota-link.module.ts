import { Module } from '@nestjs/common';
import { QueueModule } from '../../queue/queue.module';
import { QuotasCoreModule } from '../../quotas/quotas-core.module';
import { QuotaLinkProcessor } from './quota-link.processor';
import { QuotaLinkRepository } from './quota-link.repository';
import { QuotaLinkService } from './quota-link.service';

/**
 * Setting project limits from approved allocations (allocations.md §10): the
 * processing part, imported by the worker (src/worker.module.ts) and by the
 * API (which also runs the jobs without Redis). It holds no controller and
 * nothing of the allocation HTTP modules: the repository reads the
 * allocation tables itself. Limits are set through QuotasCoreModule (the
 * quotas services without their HTTP controllers).
 */
@Module({
  imports: [QueueModule, QuotasCoreModule],
  providers: [QuotaLinkRepository, QuotaLinkService, QuotaLinkProcessor],
  exports: [QuotaLinkService, QuotaLinkRepository, QueueModule],
})
export class AllocationQuotaLinkModule {}
