import { Module } from '@nestjs/common';
import { ReportsProcessingModule } from './reports-processing.module';

/** The reports API (reports.md): usage reports, the flavor catalogue and the operator routes. */
@Module({
  imports: [ReportsProcessingModule],
})
export class ReportsModule {}
