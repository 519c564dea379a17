import { Module } from '@nestjs/common';
import { PeriodsController } from './periods.controller';
import { PeriodsProcessingModule } from './periods-processing.module';

/** `POST /admin/reports/periods/{period}/close` (reports.md 5.2). */
@Module({
  imports: [PeriodsProcessingModule],
  controllers: [PeriodsController],
})
export class PeriodsModule {}
