import { Module } from '@nestjs/common';
import { ReportAuditRepository } from '../../audit/report-audit.repository';
import { CsvExportModule } from '../../export/csv-export.module';
import { ReportJobsProcessingModule } from '../../jobs/report-jobs.module';
import { PriceListsAdminController, PriceListsController } from './price-lists.controller';
import { PriceItemsService } from './price-items.service';
import { PriceListsRepository } from './price-lists.repository';
import { PriceListsService, PriceWrites } from './price-lists.service';
import { PriceValidity } from './price-validity';

/** Price lists, items and corrections (reports.md §4.1–4.4); the re-rate jobs they queue run in the rating engine's handlers. */
@Module({
  imports: [CsvExportModule, ReportJobsProcessingModule],
  controllers: [PriceListsController, PriceListsAdminController],
  providers: [PriceListsRepository, PriceValidity, PriceWrites, PriceListsService, PriceItemsService, ReportAuditRepository],
})
export class PriceListsModule {}
