import { Module } from '@nestjs/common';
import { FlavorCatalogueModule } from './catalogue/catalogue.module';
import { DetailController } from './detail/detail.controller';
import { DetailRepository } from './detail/detail.repository';
import { DetailService } from './detail/detail.service';
import { CsvExportModule } from './export/csv-export.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { PriceListsModule } from './rating/price-lists/price-lists.module';
import { ProjectsController } from './projects/projects.controller';
import { ProjectsRepository } from './projects/projects.repository';
import { ProjectsService } from './projects/projects.service';
import { ReportsProcessingModule } from './reports-processing.module';
import { UsageReportController } from './usage/usage-report.controller';
import { UsageReadModule } from './usage/usage-read.module';
import { UsageReportService } from './usage/usage-report.service';

/** The reports API (reports.md): usage reports, the flavor catalogue, price lists and the operator routes. */
@Module({
  imports: [ReportsProcessingModule, UsageReadModule, CsvExportModule, FlavorCatalogueModule, PriceListsModule, IdempotencyModule],
  controllers: [UsageReportController, DetailController, ProjectsController],
  providers: [UsageReportService, DetailRepository, DetailService, ProjectsRepository, ProjectsService],
})
export class ReportsModule {}
