import { Module } from '@nestjs/common';
import { Paginator } from '../shared/paging';
import { OrganisationsController } from './organisations.controller';
import { OrganisationsRepository } from './organisations.repository';
import { OrganisationsService } from './organisations.service';

/** Organisations of the allocation protocol (allocations.md 8); the requests module matches references through OrganisationsService. */
@Module({
  controllers: [OrganisationsController],
  providers: [OrganisationsService, OrganisationsRepository, Paginator],
  exports: [OrganisationsService],
})
export class AllocationOrganisationsModule {}
