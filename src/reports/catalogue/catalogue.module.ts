import { Module } from '@nestjs/common';
import { ReportAuditRepository } from '../audit/report-audit.repository';
import { FlavorCatalogueRepository } from './flavor-catalogue.repository';
import { FlavorCatalogueService } from './flavor-catalogue.service';
import { FlavorsAdminController, FlavorsController } from './flavor-catalogue.controller';

/** The flavor catalogue routes (reports.md 3.5). */
@Module({
  controllers: [FlavorsController, FlavorsAdminController],
  providers: [FlavorCatalogueRepository, FlavorCatalogueService, ReportAuditRepository],
  exports: [FlavorCatalogueRepository],
})
export class FlavorCatalogueModule {}
