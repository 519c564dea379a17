import { Module } from '@nestjs/common';
import { Paginator } from '../shared/paging';
import { ORGANISATIONS_CONTROLLERS } from './organisations.controller';
import { OrganisationsRepository } from './organisations.repository';
import { OrganisationsService } from './organisations.service';

/** Organisations of the allocation protocol (allocations.md 8); the requests module matches references through OrganisationsService. */
@Module({
  controllers: [...ORGANISATIONS_CONTROLLERS],
  providers: [OrganisationsService, OrganisationsRepository, Paginator],
  exports: [OrganisationsService],
})
export class AllocationOrganisationsModule {}
