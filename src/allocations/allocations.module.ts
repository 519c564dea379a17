import { Module } from '@nestjs/common';
import { AllocationsController, AllocationsRootController } from './allocations.controller';
import { AllocationsService } from './allocations.service';
import { CatalogueService } from './catalogue.service';
import { OrganisationsService } from './organisations.service';
import { QuotaLinkSweeperService } from './quota-link/quota-link-sweeper.service';
import { AllocationQuotaLinkModule } from './quota-link/quota-link.module';
import { QuotaMappingsController } from './quota-link/quota-mappings.controller';
import { QuotaMappingsService } from './quota-link/quota-mappings.service';
import { RecordsService } from './records.service';

/** Nectar Allocation API v1 (spec/allocations.md), sections 1-11, with the link to quota limits (§10). */
@Module({
  imports: [AllocationQuotaLinkModule],
  controllers: [AllocationsRootController, AllocationsController, QuotaMappingsController],
  providers: [AllocationsService, CatalogueService, OrganisationsService, RecordsService, QuotaMappingsService, QuotaLinkSweeperService],
  exports: [AllocationsService],
})
export class AllocationsModule {}
