import { Module } from '@nestjs/common';
import { AllocationsController, AllocationsRootController } from './allocations.controller';
import { AllocationsService } from './allocations.service';
import { CatalogueService } from './catalogue.service';
import { OrganisationsService } from './organisations.service';
import { RecordsService } from './records.service';

/** Nectar Allocation API v1 (spec/allocations.md), sections 1-9 and 11. */
@Module({
  controllers: [AllocationsRootController, AllocationsController],
  providers: [AllocationsService, CatalogueService, OrganisationsService, RecordsService],
  exports: [AllocationsService],
})
export class AllocationsModule {}
