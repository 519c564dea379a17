import { Module } from '@nestjs/common';
import { WindowRepository } from '../../window/window.repository';
import { WindowService } from '../../window/window.service';
import { RatingEngineProcessingModule } from './rating-engine.module';
import { RerateController } from './rerate.controller';
import { RerateService } from './rerate.service';

/** `POST /admin/reports/rerate`. */
@Module({
  imports: [RatingEngineProcessingModule],
  controllers: [RerateController],
  providers: [WindowRepository, WindowService, RerateService],
})
export class RerateApiModule {}
