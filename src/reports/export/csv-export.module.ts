import { Module } from '@nestjs/common';
import { CsvExportRepository } from './csv-export.repository';
import { CsvExportService } from './csv-export.service';

/**
 * The CSV export of the report routes (reports.md 1.7). One CsvExportService
 * per process: its slots are the process's REPORT_MAX_EXPORTS.
 */
@Module({
  providers: [CsvExportRepository, CsvExportService],
  exports: [CsvExportService],
})
export class CsvExportModule {}
