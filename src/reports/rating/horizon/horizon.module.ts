import { Module } from '@nestjs/common';
import { BackfillController } from './backfill.controller';
import { BackfillRepository } from './backfill.repository';
import { BackfillService } from './backfill.service';
import { HorizonProcessingModule } from './horizon-processing.module';

/** `/admin/reports/backfills` and, through HorizonProcessingModule, the AMIE load filter (API process). */
@Module({
  imports: [HorizonProcessingModule],
  controllers: [BackfillController],
  providers: [BackfillRepository, BackfillService],
})
export class HorizonModule {}
