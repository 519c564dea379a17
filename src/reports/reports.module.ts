import { Module } from '@nestjs/common';
import { CsvExportModule } from './export/csv-export.module';

/** Usage reports, the flavor catalogue and their CSV export (reports.md). */
@Module({
  imports: [CsvExportModule],
})
export class ReportsModule {}
