import { Module } from '@nestjs/common';
import { Paginator } from '../shared/paging';
import { CATALOGUE_CONTROLLERS } from './catalogue.controller';
import { CatalogueRepository } from './catalogue.repository';
import { CatalogueService } from './catalogue.service';

/** The nine catalogue collections of allocations.md 8 (organisations have their own module); the requests module looks names up through CatalogueRepository. */
@Module({
  controllers: [...CATALOGUE_CONTROLLERS],
  providers: [CatalogueService, CatalogueRepository, Paginator],
  exports: [CatalogueRepository],
})
export class AllocationCatalogueModule {}
