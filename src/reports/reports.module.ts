import { Module } from '@nestjs/common';
import { ReportsProcessingModule } from './reports-processing.module';
import { WindowRepository } from './window/window.repository';
import { WindowService } from './window/window.service';

/** The reports API (reports.md): usage reports, the flavor catalogue and the operator routes. */
@Module({
  imports: [ReportsProcessingModule],
  providers: [WindowRepository, WindowService],
})
export class ReportsModule {}
