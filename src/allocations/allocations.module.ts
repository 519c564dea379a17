import { Module } from '@nestjs/common';
import { AllocationCatalogueModule } from './catalogue/catalogue.module';
import { AllocationOrganisationsModule } from './organisations/organisations.module';
import { AllocationQuotaMappingsModule } from './quota-link/quota-mappings.module';
import { AllocationRequestsModule } from './requests/requests.module';

/**
 * Nectar Allocation API v1 (spec/allocations.md), in four sub-modules:
 * allocation requests (requests/), the catalogue (catalogue/), organisations
 * (organisations/) and the link to quota limits (quota-link/, §10; its
 * processing module is what the worker imports).
 */
@Module({
  imports: [AllocationRequestsModule, AllocationCatalogueModule, AllocationOrganisationsModule, AllocationQuotaMappingsModule],
})
export class AllocationsModule {}
