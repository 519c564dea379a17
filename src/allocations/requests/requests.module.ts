import { Module } from '@nestjs/common';
import { AllocationCatalogueModule } from '../catalogue/catalogue.module';
import { AllocationOrganisationsModule } from '../organisations/organisations.module';
import { AllocationQuotaLinkModule } from '../quota-link/quota-link.module';
import { Paginator } from '../shared/paging';
import { AllocationAccess } from './allocation-access';
import { ALLOCATIONS_CONTROLLERS, AllocationsRootController } from './allocations.controller';
import { AllocationsRepository } from './allocations.repository';
import { AllocationsService } from './allocations.service';
import { RECORDS_CONTROLLERS } from './records.controller';
import { RecordsRepository } from './records.repository';
import { RecordsService } from './records.service';

/**
 * Allocation requests (allocations.md 4-7, 9): the state machine, history
 * snapshots, and the quotas, chief investigators, grants and publications of
 * a request. Names in a request are looked up in the catalogue and
 * organisations modules; approvals owe the quota link a recomputation (§10).
 */
@Module({
  imports: [AllocationCatalogueModule, AllocationOrganisationsModule, AllocationQuotaLinkModule],
  controllers: [AllocationsRootController, ...ALLOCATIONS_CONTROLLERS, ...RECORDS_CONTROLLERS],
  providers: [AllocationsService, AllocationsRepository, AllocationAccess, RecordsService, RecordsRepository, Paginator],
})
export class AllocationRequestsModule {}
