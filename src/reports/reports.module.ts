import { Module } from '@nestjs/common';
import { DetailController } from './detail/detail.controller';
import { DetailRepository } from './detail/detail.repository';
import { DetailService } from './detail/detail.service';
import { ReportsProcessingModule } from './reports-processing.module';
import { WindowRepository } from './window/window.repository';
import { WindowService } from './window/window.service';

/** The reports API (reports.md): usage reports, the flavor catalogue and the operator routes. */
@Module({
  imports: [ReportsProcessingModule],
  controllers: [DetailController],
  providers: [WindowRepository, WindowService, DetailRepository, DetailService],
})
export class ReportsModule {}
