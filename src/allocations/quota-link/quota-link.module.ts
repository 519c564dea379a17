import { Module } from '@nestjs/common';
import { QueueModule } from '../../queue/queue.module';
import { QuotasService } from '../../quotas/quotas.service';
import { QuotaLinkProcessor } from './quota-link.processor';
import { QuotaLinkService } from './quota-link.service';

/**
 * Setting project limits from approved allocations (allocations.md §10): the
 * worker process's part, also run in the API without Redis. QuotasService is
 * stateless (a DataSource only), so it is provided here rather than importing
 * QuotasModule with its HTTP controllers into the worker.
 */
@Module({
  imports: [QueueModule],
  providers: [QuotasService, QuotaLinkService, QuotaLinkProcessor],
  exports: [QuotaLinkService, QueueModule],
})
export class AllocationQuotaLinkModule {}
