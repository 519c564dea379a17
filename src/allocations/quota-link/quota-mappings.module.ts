import { Module } from '@nestjs/common';
import { QuotaLinkSweeperService } from './quota-link-sweeper.service';
import { AllocationQuotaLinkModule } from './quota-link.module';
import { QuotaMappingsController } from './quota-mappings.controller';
import { QuotaMappingsRepository } from './quota-mappings.repository';
import { QuotaMappingsService } from './quota-mappings.service';

/**
 * The API side of the quota link (allocations.md §10): the admin mapping
 * routes under /admin/allocations/, and the sweeper that enqueues again what
 * is owed (it runs in the API process only).
 */
@Module({
  imports: [AllocationQuotaLinkModule],
  controllers: [QuotaMappingsController],
  providers: [QuotaMappingsService, QuotaMappingsRepository, QuotaLinkSweeperService],
})
export class AllocationQuotaMappingsModule {}
